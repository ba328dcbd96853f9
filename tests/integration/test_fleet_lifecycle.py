"""Fleet lifecycle on real namespaces: idempotence, concurrency, faults, cleanup and reaping."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gpuforge.fleet import Fleet, NodeState, sim_module
from gpuforge.fleet._naming import bridge_name, veth_names
from gpuforge.fleet._proc import alive


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
PROFILE = "hgx-h100-8"
_DRIVER = (
    "import typer; from gpuforge.cli import fleet_cmds; app = typer.Typer(); "
    "fleet_cmds.register(app); app()"
)


def _cli(state: Path, *args: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-c", _DRIVER, "fleet", *args, "--state-dir", str(state), "--json"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _links() -> set[str]:
    return {p.name for p in Path("/sys/class/net").iterdir() if p.name.startswith("gf")}


def _live_pids_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline and stat.rsplit(")", 1)[1].split()[0] != "Z":
            found.append(int(entry.name))
    return found


def _our_links(cluster: str, names: list[str]) -> set[str]:
    wanted = {bridge_name(cluster)} | {n for name in names for n in veth_names(cluster, name)}
    return wanted & _links()


def _assert_nothing_left(state: Path, pids: list[int], cluster: str, names: list[str]) -> None:
    assert _our_links(cluster, names) == set()
    assert str(state) not in Path("/proc/mounts").read_text()
    assert [p for p in pids if alive(p)] == []
    assert _live_pids_mentioning(str(state)) == []
    assert not (state / "clusters").exists() or list((state / "clusters").iterdir()) == []


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    Fleet(tmp_path, seed_hardware=SIM is not None).down()


@pytest.fixture
def fleet(state: Path) -> Fleet:
    return Fleet(state, seed_hardware=SIM is not None)


def test_up_is_idempotent_and_grows_a_pool(fleet: Fleet) -> None:
    first = fleet.up("idem", "gpu", PROFILE, 2)
    again = fleet.up("idem", "gpu", PROFILE, 2)
    assert [(n.name, n.pid) for n in again] == [(n.name, n.pid) for n in first]
    grown = fleet.up("idem", "gpu", PROFILE, 3)
    assert [n.pid for n in grown[:2]] == [n.pid for n in first]
    assert [n.name for n in grown] == ["idem-gpu-0", "idem-gpu-1", "idem-gpu-2"]
    assert [n.address.rsplit(".", 1)[1] for n in grown] == ["11", "12", "13"]
    assert {n.state for n in fleet.status()} == {NodeState.RUNNING}


def test_node_up_and_down_run_concurrently_from_the_cli(state: Path) -> None:
    names = [f"tf-{i}" for i in range(6)]
    ups = [
        _cli(state, "node-up", "--cluster", "conc", "--name", name, "--address",
             f"10.251.201.{11 + i}", "--subnet", "10.251.201.0/24", "--profile", PROFILE)
        for i, name in enumerate(names)
    ]  # fmt: skip
    bodies = []
    for proc in ups:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err + out
        bodies.append(_payload(out))
    pids = [body["nodes"][0]["pid"] for body in bodies]
    assert all(body["nodes"][0]["state"] == "running" for body in bodies)
    key = Path(bodies[0]["ssh_private_key_file"])
    assert key.is_file()
    fleet = Fleet(state, seed_hardware=SIM is not None)
    assert sorted(n.name for n in fleet.status()) == names
    for node in fleet.status():
        assert fleet.run(node, ["hostname"]).stdout == f"{node.name}\n"
    again = _cli(state, "node-up", "--cluster", "conc", "--name", "tf-0", "--address",
                 "10.251.201.11", "--subnet", "10.251.201.0/24", "--profile", PROFILE)  # fmt: skip
    out, _ = again.communicate(timeout=60)
    assert _payload(out)["nodes"][0]["pid"] == pids[0]
    downs = [_cli(state, "node-down", "--cluster", "conc", "--name", name) for name in names]
    for proc in downs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err + out
    _assert_nothing_left(state, pids, "conc", names)


def test_node_up_refuses_to_change_a_node_in_place(fleet: Fleet, state: Path) -> None:
    fleet.up("same", "gpu", PROFILE, 1)
    proc = _cli(state, "node-up", "--cluster", "same", "--name", "same-gpu-0", "--address",
                "10.251.202.40", "--subnet", "10.251.202.0/24", "--profile", PROFILE)  # fmt: skip
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "node-down" in _payload(out)["fix"] or "subnet" in _payload(out)["fix"]


def test_sshd_killed_and_powered_off_faults_and_heal(fleet: Fleet) -> None:
    node = fleet.up("flt", "gpu", PROFILE, 1)[0]
    assert fleet.run(node, ["sh", "-c", "echo kept > /root/disk"]).returncode == 0
    fleet.inject(node, "sshd-killed")
    broken = fleet.find(node.name)
    assert broken.state is NodeState.RUNNING
    assert broken.faults == ("sshd-killed",)
    assert fleet.run(broken, ["true"]).returncode == 255
    healed = fleet.heal(broken)
    assert fleet.run(healed, ["cat", "/root/disk"]).stdout == "kept\n"
    assert healed.pid == node.pid
    fleet.inject(healed, "powered-off")
    off = fleet.find(node.name)
    assert (off.state, off.pid) == (NodeState.STOPPED, 0)
    assert not alive(node.pid)
    assert fleet.run(off, ["true"]).returncode == 255
    on = fleet.heal(off)
    assert on.state is NodeState.RUNNING
    assert on.pid not in (0, node.pid)
    assert fleet.run(on, ["cat", "/root/disk"]).stdout == "kept\n"


_CONNECT = "import socket, sys; socket.create_connection((sys.argv[1], 22), timeout=3).close()"


def test_a_node_started_again_at_its_address_is_reached_at_once(fleet: Fleet) -> None:
    """Powered off and on, a node comes back with a new MAC at its old address: the host and a
    peer that had just talked to it reach it at once, not after their neighbour entries age out
    (the bridge keeps its MAC, so nothing flushes them: the host-side veth is not its lowest)."""
    nodes = fleet.up("arp", "gpu", PROFILE, 3)
    bridge = Path(f"/sys/class/net/{bridge_name('arp')}/address").read_text()
    node = next(
        n
        for n in nodes
        if Path(f"/sys/class/net/{veth_names('arp', n.name)[0]}/address").read_text() != bridge
    )
    peer = next(n for n in nodes if n.name != node.name)
    assert fleet.run(peer, ["/usr/bin/python3", "-c", _CONNECT, node.address]).returncode == 0
    assert fleet.run(node, ["true"]).returncode == 0
    fleet.inject(node, "powered-off")
    on = fleet.heal(fleet.find(node.name))
    assert on.state is NodeState.RUNNING
    assert fleet.run(on, ["true"]).returncode == 0
    assert fleet.run(peer, ["/usr/bin/python3", "-c", _CONNECT, node.address]).returncode == 0


@pytest.mark.skipif(SIM is None, reason="gpuforge.fleet.sim (hardware faults) not importable yet")
def test_hardware_faults_are_delegated_to_the_simulator(fleet: Fleet) -> None:
    node = fleet.up("hw", "gpu", PROFILE, 1)[0]
    fleet.inject(node, "xid", gpu=1, code=79)
    state = fleet.run(node, ["cat", "/var/lib/gpuforge-sim/state.json"])
    assert [f["name"] for f in json.loads(state.stdout)["faults"]] == ["xid"]
    assert fleet.find(node.name).faults == ("xid",)
    fleet.heal(node)
    state = fleet.run(node, ["cat", "/var/lib/gpuforge-sim/state.json"])
    assert json.loads(state.stdout)["faults"] == []
    assert fleet.find(node.name).faults == ()


def test_down_leaves_nothing_behind(fleet: Fleet, state: Path) -> None:
    nodes = fleet.up("gone", "gpu", PROFILE, 3)
    names = [n.name for n in nodes]
    assert len(_our_links("gone", names)) == 4  # bridge + the host side of each node's veth
    pid_namespaces = {os.readlink(f"/proc/{n.pid}/ns/pid") for n in nodes}
    assert sorted(fleet.down("gone")) == ["gone-gpu-0", "gone-gpu-1", "gone-gpu-2"]
    _assert_nothing_left(state, [n.pid for n in nodes], "gone", names)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and alive(int(entry.name)):
            try:
                assert os.readlink(entry / "ns/pid") not in pid_namespaces
            except OSError:
                continue
    assert fleet.status() == []


def test_a_killed_up_is_reaped_by_the_next_call(state: Path) -> None:
    proc = _cli(state, "up", "--cluster", "reap", "--profile", PROFILE, "--count", "4")
    nodes_dir = state / "clusters" / "reap" / "nodes"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        records = [json.loads(p.read_text()) for p in nodes_dir.glob("*/node.json")]
        if any(r["launcher_pid"] for r in records):
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    fleet = Fleet(state, seed_hardware=SIM is not None)
    listed = fleet.status()
    assert listed, "the interrupted up recorded nothing"
    for node in listed:
        assert node.state in (NodeState.RUNNING, NodeState.DEAD)
        if node.state is NodeState.DEAD:
            assert node.pid == 0
            assert _live_pids_mentioning(f"/{node.name}/init.sh") == []
    started = [json.loads(p.read_text())["launcher_pid"] for p in nodes_dir.glob("*/node.json")]
    fleet.down()
    _assert_nothing_left(state, started, "reap", [f"reap-gpu-{i}" for i in range(4)])
