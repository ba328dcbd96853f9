"""Two real fleet nodes: SSH, isolation, namespaces, stand-ins, packages, process faults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from gpuforge.cli import fleet_cmds
from gpuforge.fleet import Fleet, Node, NodeState, sim_module
from gpuforge.fleet._naming import bridge_name


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error`, beside `ok` and `exit_code`."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    if not isinstance(inner, dict):
        return inner
    return {"ok": body["ok"], "exit_code": body["exit_code"], **inner}


pytestmark = [
    pytest.mark.fleet,
    pytest.mark.skipif(os.geteuid() != 0, reason="the fleet needs root (namespaces, mounts)"),
]
SIM = sim_module()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    state = tmp_path_factory.mktemp("fleet-nodes")
    fleet = Fleet(state, seed_hardware=SIM is not None)
    yield fleet
    fleet.down()


@pytest.fixture(scope="module")
def nodes(fleet: Fleet) -> list[Node]:
    return fleet.up("fnodes", "gpu", "hgx-h100-8", 2)


def _sh(fleet: Fleet, node: Node, script: str) -> subprocess.CompletedProcess[str]:
    return fleet.run(node, ["sh", "-c", script])


def test_nodes_answer_over_real_ssh_with_their_own_hostname(
    fleet: Fleet, nodes: list[Node]
) -> None:
    for node in nodes:
        assert node.state is NodeState.RUNNING
        done = _sh(fleet, node, "hostname; id -u; ip -4 -o addr show eth0")
        assert done.returncode == 0, done.stderr
        hostname, uid, addr = done.stdout.splitlines()
        assert (hostname, uid) == (node.name, "0")
        assert f"{node.address}/24" in addr
    plain = subprocess.run(
        ["ssh", "-F", str(fleet.ssh_config_path("fnodes")), nodes[0].address, "true"],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr


def test_a_file_written_in_one_node_is_absent_on_the_host_and_the_other(
    fleet: Fleet, nodes: list[Node]
) -> None:
    marker = "/root/gpuforge-isolation-marker"
    etc_marker = "/etc/gpuforge-isolation-marker"
    done = _sh(
        fleet, nodes[0], f"echo one > {marker} && echo one > {etc_marker} && rm -f /etc/motd"
    )
    assert done.returncode == 0, done.stderr
    assert _sh(fleet, nodes[0], f"cat {marker}").stdout == "one\n"
    assert not Path(marker).exists()
    assert not Path(etc_marker).exists()
    other = _sh(fleet, nodes[1], f"test -e {marker} || test -e {etc_marker} || echo absent")
    assert other.stdout == "absent\n"
    assert Path("/etc/motd").exists() == (_sh(fleet, nodes[1], "test -e /etc/motd").returncode == 0)


def test_nodes_have_stock_dotfiles_and_cannot_see_the_fleet_state(
    fleet: Fleet, nodes: list[Node]
) -> None:
    done = _sh(fleet, nodes[1], f"ls -A /root; ls -A {fleet.state_dir} | wc -l")
    assert done.returncode == 0, done.stderr
    *home, state_entries = done.stdout.split()
    skel = sorted(p.name for p in Path("/etc/skel").iterdir())
    assert sorted(home) == skel
    assert state_entries == "0"


def test_nodes_are_confined(fleet: Fleet, nodes: list[Node]) -> None:
    script = (
        "grep CapBnd /proc/self/status | cut -f2; "
        "echo 1 > /proc/sys/net/ipv4/ip_forward 2>/dev/null && echo writable || echo readonly; "
        "ip route | wc -l; "
        "readlink /proc/self/ns/pid; "
        "tr '\\0' ' ' < /proc/1/cmdline | tr -d ' '; echo; "
        "test -c /dev/null && test -c /dev/pts/ptmx && echo devs"
    )
    done = _sh(fleet, nodes[0], script)
    assert done.returncode == 0, done.stderr
    bounding, proc_sys, routes, pid_ns, first, devs = done.stdout.split()
    caps = int(bounding, 16)
    assert not caps & (1 << 16)  # CAP_SYS_MODULE
    assert not caps & (1 << 22)  # CAP_SYS_BOOT
    assert proc_sys == "readonly"
    assert routes == "1"  # only the cluster subnet: no default route out
    # Its own PID namespace, whose first process is the node's init (how many processes it
    # holds depends on what earlier tests started there, so that is not counted).
    assert pid_ns != os.readlink("/proc/self/ns/pid")
    assert first.endswith("init.sh"), first
    assert devs == "devs"
    host_ip_forward = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    assert host_ip_forward == "0\n"


def test_nodes_reach_each_other_but_nothing_outside_the_subnet(
    fleet: Fleet, nodes: list[Node]
) -> None:
    probe = f"(echo > /dev/tcp/{nodes[1].address}/22) 2>/dev/null && echo ok"
    peer = fleet.run(nodes[0], ["bash", "-c", probe])
    assert peer.stdout == "ok\n"
    out = _sh(fleet, nodes[0], "ip route get 192.0.2.1 2>&1 || true")
    assert "unreachable" in out.stdout
    bridge = bridge_name("fnodes")
    assert Path(f"/proc/sys/net/ipv4/conf/{bridge}/forwarding").read_text() == "0\n"


def test_kernel_stand_ins_record_instead_of_acting(fleet: Fleet, nodes: list[Node]) -> None:
    script = (
        "modprobe nvidia-peermem && cat /var/log/gpuforge-sim/modprobe.log; "
        "sysctl -w net.core.rmem_max=4194311 >/dev/null && sysctl -n net.core.rmem_max; "
        "printf 'vm.swappiness = 7\\n' > /etc/sysctl.d/90-t.conf && "
        "sysctl -p /etc/sysctl.d/90-t.conf"
    )
    done = _sh(fleet, nodes[0], script)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith("modprobe nvidia-peermem")
    assert lines[1:] == ["4194311", "vm.swappiness = 7"]
    assert not Path("/var/log/gpuforge-sim").exists()
    assert Path("/proc/sys/net/core/rmem_max").read_text() != "4194311\n"


def test_systemctl_stand_in_starts_and_enables_services(fleet: Fleet, nodes: list[Node]) -> None:
    unit = (
        "[Unit]\nDescription=demo\n[Service]\nExecStart=/bin/sleep 1000\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )
    script = (
        f"printf '{unit}' > /etc/systemd/system/gf-demo.service && "
        "systemctl daemon-reload && systemctl enable --now gf-demo && "
        "systemctl is-active gf-demo && systemctl is-enabled gf-demo"
    )
    done = _sh(fleet, nodes[0], script.replace("\n", "\\n"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.split()[-2:] == ["active", "enabled"]
    assert not Path("/etc/systemd/system/gf-demo.service").exists()


def test_nodes_run_the_stand_in_whatever_systemctl_the_host_has(
    fleet: Fleet, nodes: list[Node]
) -> None:
    """Nodes run Debian's daemonless stand-in, also where the host's systemctl is systemd's (as
    on CI's host, which has the systemd package installed but not running as init)."""
    done = _sh(fleet, nodes[0], "head -n 2 /usr/bin/systemctl; systemctl --version")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("#!/usr/bin/python3 -S\n# gpuforge node:")
    assert "via systemctl.py" in done.stdout


@pytest.mark.skipif(
    SIM is None, reason="gpuforge.fleet.sim (simulated hardware) not importable yet"
)
def test_nodes_carry_their_simulated_hardware(fleet: Fleet, nodes: list[Node]) -> None:
    done = _sh(fleet, nodes[0], "cat /var/lib/gpuforge-sim/hardware.json")
    assert done.returncode == 0, done.stderr
    assert nodes[0].name in done.stdout
    assert not Path("/var/lib/gpuforge-sim").exists()


@pytest.mark.skipif(
    SIM is None, reason="gpuforge.fleet.sim (stand-in APT repository) not importable yet"
)
def test_apt_install_in_a_node_leaves_the_host_alone(fleet: Fleet, nodes: list[Node]) -> None:
    sources = "deb [trusted=yes] file:/srv/gpuforge-apt/debian12/x86_64/ /"
    script = (
        f"echo '{sources}' > /etc/apt/sources.list.d/gpuforge.list && "
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnccl2 "
        ">/dev/null && dpkg-query -W -f='${Status}' libnccl2"
    )
    done = _sh(fleet, nodes[0], script)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "install ok installed"
    host = subprocess.run(["dpkg-query", "-W", "libnccl2"], capture_output=True, check=False)
    assert host.returncode != 0
    other = _sh(fleet, nodes[1], "dpkg-query -W libnccl2")
    assert other.returncode != 0


def test_cli_ssh_runs_one_command_and_returns_its_code(fleet: Fleet, nodes: list[Node]) -> None:
    app = typer.Typer()
    fleet_cmds.register(app)
    state = ["--state-dir", str(fleet.state_dir)]
    ok = CliRunner().invoke(app, ["fleet", "ssh", nodes[1].name, *state, "--", "hostname"])
    assert (ok.exit_code, ok.stdout) == (0, f"{nodes[1].name}\n")
    failing = ["fleet", "ssh", nodes[1].name, *state, "--", "hostname | tr a-z A-Z; exit 7"]
    shouted = CliRunner().invoke(app, failing)
    assert (shouted.exit_code, shouted.stdout) == (7, f"{nodes[1].name.upper()}\n")
    status = CliRunner().invoke(app, ["fleet", "status", *state, "--json"])
    listed = {n["name"]: n["state"] for n in _payload(status.stdout)["nodes"]}
    assert listed == {n.name: "running" for n in nodes}


def test_ansible_reaches_nodes_with_the_cluster_key(
    fleet: Fleet, nodes: list[Node], tmp_path: Path
) -> None:
    ansible = Path(sys.executable).with_name("ansible")
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path)}
    env["ANSIBLE_PYTHON_INTERPRETER"] = "/usr/bin/python3"
    # The module's remote files go to /tmp, so the nodes' home folders stay stock for the
    # dotfiles test, whichever order the two run in.
    env["ANSIBLE_REMOTE_TMP"] = "/tmp/.ansible-remote"
    done = subprocess.run(
        [str(ansible), "all", "-i", ",".join(n.address for n in nodes) + ",", "-u", "root",
         "--private-key", str(fleet.client_key_path("fnodes")),
         "--ssh-common-args", f"-F {fleet.ssh_config_path('fnodes')}",
         "-m", "ansible.builtin.command", "-a", "hostname"],
        capture_output=True, text=True, check=False, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    for node in nodes:
        assert f"{node.address} | CHANGED | rc=0 >>\n{node.name}" in done.stdout
