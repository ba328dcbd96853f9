"""GPU-aware security on the fleet (issue 24), on one shared two-node cluster with hardening on,
GPUs for group gpu (user alice) and python* the only allowed GPU processes: the device files
belong to the group and nobody else opens them; the nftables firewall lets an NCCL job cross the
nodes and closes a port the cluster does not need; an unknown process on a GPU is reported by
`validate` (GF-SEC-101) and by the GPU watch's metric on the next scrape."""

from __future__ import annotations

import json
import shlex
import subprocess
import urllib.request
from collections.abc import Iterator

import pytest
from test_up import Cluster, _make_cluster, pytestmark  # noqa: F401  (same markers and skips)

from gpuforge.validate import judge_cluster_nccl, parse_nccl_tests

# A port inside the range the firewall opens between cluster nodes (NCCL's ephemeral ports), one
# the cluster does not need, and the GPU watch's port.
NCCL_PORT = 45000
OPEN_PORT = 45001
CLOSED_PORT = 8081
WATCH_PORT = 9410
CONNECT = (
    "import socket,sys\n"
    "try:\n"
    "    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()\n"
    "    print('connected')\n"
    "except OSError as error:\n"
    "    print(type(error).__name__)\n"
)
LISTEN = (
    "import socket,sys\n"
    "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(8)\n"
    "while True: s.accept()[0].close()\n"
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The two-node hardened cluster; destroyed at the end."""
    made = _make_cluster(tmp_path_factory.mktemp("security"), "one-pool.yaml", "it-security")
    text = made.spec.read_text(encoding="utf-8")
    made.spec.write_text(
        text + "security: {gpu_group: gpu, gpu_users: [alice], "
        "gpu_allowed_processes: ['python*']}\n"
    )
    try:
        rc, payload = made.json("up", str(made.spec))
        assert rc == 0, json.dumps(payload, indent=1)[-4000:]
        yield made
    finally:
        made.teardown()


@pytest.fixture(scope="module")
def nodes(cluster: Cluster) -> dict[str, str]:
    """Node name -> address, in name order."""
    return {node["name"]: node["address"] for node in sorted(cluster.nodes(), key=_name)}


def _name(node: dict[str, str]) -> str:
    return node["name"]


def test_gpu_device_files_belong_to_the_group(cluster: Cluster, nodes: dict[str, str]) -> None:
    node = next(iter(nodes))
    listing = cluster.ssh(node, "stat -c '%n %a %U %G' /dev/nvidia*").splitlines()
    assert listing, "the node has GPU device files"
    for line in listing:
        _, mode, owner, group = line.split()
        assert (mode, owner, group) == ("660", "root", "gpu"), line
    assert "gpu" in cluster.ssh(node, "id -nG alice").split()
    rule = cluster.ssh(node, "cat /etc/udev/rules.d/70-gpuforge-gpu-access.rules")
    expected = 'KERNEL=="nvidia*", SUBSYSTEM!="nvidia-caps", OWNER="root", GROUP="gpu", MODE="0660"'
    assert expected in rule


def test_a_user_outside_the_gpu_group_cannot_open_the_gpus(
    cluster: Cluster, nodes: dict[str, str]
) -> None:
    """nobody is refused by the permission check; alice passes it (no driver backs the simulated
    device on the host kernel, so her open ends in ENXIO, past the permission check)."""
    node = next(iter(nodes))
    probe = "exec 3</dev/nvidia0 && echo opened"
    outsider = cluster.ssh(node, f"runuser -u nobody -- sh -c {shlex.quote(probe)} 2>&1 || true")
    member = cluster.ssh(node, f"runuser -u alice -- sh -c {shlex.quote(probe)} 2>&1 || true")
    assert "Permission denied" in outsider
    assert "Permission denied" not in member


def test_the_firewall_drops_by_default_on_every_node(
    cluster: Cluster, nodes: dict[str, str]
) -> None:
    for node in nodes:
        table = cluster.ssh(node, "nft list table inet gpuforge")
        assert "policy drop" in table
        assert "32768-60999" in table and "6817" not in table
        assert "-w /dev/nvidia0 -p rwa -k gpuforge-nvidia" in cluster.ssh(node, "auditctl -l")


def test_an_nccl_job_crosses_the_nodes_through_the_firewall(
    cluster: Cluster, nodes: dict[str, str]
) -> None:
    """One all_reduce_perf per node, as mpirun starts them: the bootstrap and the ring connect."""
    (first, root_address), (second, _) = nodes.items()
    env = f"NCCL_COMM_ID={root_address}:{NCCL_PORT} GPUFORGE_SIM_HOSTS={first},{second} "
    command = "all_reduce_perf -b 8M -e 64M -f 2 -g 8"
    peer = subprocess.Popen(
        cluster.argv(
            "fleet",
            "ssh",
            second,
            "--cluster",
            cluster.name,
            "--state-dir",
            str(cluster.state),
            "--",
            f"{env}GPUFORGE_SIM_RANK=1 {command}",
        ),
        env=cluster.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        report = cluster.ssh(first, f"{env}GPUFORGE_SIM_RANK=0 {command}")
    finally:
        peer_output, _ = peer.communicate(timeout=120)
    assert peer.returncode == 0, peer_output
    result = parse_nccl_tests(report)
    assert len(result.hosts) == 2 and result.rows
    assert judge_cluster_nccl("h100", result, 1.0) == []


def _connect_from(cluster: Cluster, node: str, address: str, port: int) -> str:
    script = shlex.quote(CONNECT)
    return cluster.ssh(node, f"python3 -c {script} {address} {port}").strip()


def test_a_port_the_cluster_does_not_need_is_closed_to_the_other_node(
    cluster: Cluster, nodes: dict[str, str]
) -> None:
    (listening, address), (other, _) = nodes.items()
    start = (
        f"nohup python3 -c {shlex.quote(LISTEN)} {{port}} </dev/null >/dev/null 2>&1 & echo $!; "
        "for _ in $(seq 100); do ss -Hltn sport = :{port} | grep -q . && exit 0; sleep 0.05; "
        "done; exit 1"
    )
    pids = []
    try:
        for port in (OPEN_PORT, CLOSED_PORT):
            pids.append(cluster.ssh(listening, start.format(port=port)).split()[0])
        assert _connect_from(cluster, listening, "127.0.0.1", CLOSED_PORT) == "connected"
        assert _connect_from(cluster, other, address, OPEN_PORT) == "connected"
        assert _connect_from(cluster, other, address, CLOSED_PORT) == "TimeoutError"
    finally:
        if pids:
            cluster.ssh(listening, f"kill {' '.join(pids)}")


def _scrape(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}:{WATCH_PORT}/metrics", timeout=10) as answer:
        text: str = answer.read().decode()
    return text


def test_an_unknown_gpu_process_is_reported_by_validate_and_the_metric(
    cluster: Cluster, nodes: dict[str, str]
) -> None:
    (node, address), (other, other_address) = nodes.items()
    assert "gpuforge_gpu_unknown_processes 0" in _scrape(address)
    injected = cluster.fleet("inject", node, "gpu-process", "--process", "xmrig", "--json")
    assert injected.returncode == 0, injected.stdout + injected.stderr
    try:
        assert "xmrig" in cluster.ssh(
            node, "nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv"
        )
        # The exporter counts at scrape time: the next scrape sees it.
        metrics = _scrape(address)
        assert "gpuforge_gpu_unknown_processes 1" in metrics
        assert 'process_name="xmrig",user="nobody"' in metrics
        assert "gpuforge_gpu_unknown_processes 0" in _scrape(other_address)
        rc, report = cluster.json("validate", str(cluster.spec))
        assert rc == 1, json.dumps(report)[-3000:]
        [finding] = [f for f in report["findings"] if f["code"] == "GF-SEC-101"]
        assert finding["node"] == node and "xmrig" in finding["message"]
        assert "user nobody" in finding["message"]
        assert other not in {f["node"] for f in report["findings"] if f["severity"] == "error"}
    finally:
        assert cluster.fleet("heal", node, "--json").returncode == 0
    assert "gpuforge_gpu_unknown_processes 0" in _scrape(address)
