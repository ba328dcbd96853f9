"""Issue 24 in the simulator: a compute process on a GPU (tools/gpu_app.py) shows in
`--query-compute-apps` and the GPU's utilisation; a multi-node all_reduce_perf connects its ranks
over real TCP (tools/nccl_net.py) and fails as NCCL does when a peer cannot be reached."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import TOOLS, Run

APPS = ("--query-compute-apps=pid,process_name,used_memory", "--format=csv")


def _wait_for(predicate: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def miner(node: Path) -> Iterator[subprocess.Popen[bytes]]:
    """gpu_app.py on GPU 3 named xmrig (argv[0]), 4096 MiB, 100 % busy; ended afterwards."""
    env = dict(os.environ, GPUFORGE_SIM_ROOT=str(node))
    argv = [str(TOOLS / "gpu_app.py"), "3", "4096", "100"]
    proc = subprocess.Popen(["xmrig", "-S", *argv], executable=sys.executable, env=env)
    folder = node / "var/lib/gpuforge-sim/gpu-apps"
    _wait_for(lambda: (folder / f"{proc.pid}.json").is_file(), "the process to register")
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


def test_no_process_lists_only_the_header(run: Run) -> None:
    assert run("nvidia_smi.py", *APPS).stdout == "pid, process_name, used_memory [MiB]\n"


def test_a_gpu_process_shows_in_compute_apps_and_utilisation(
    run: Run, miner: subprocess.Popen[bytes]
) -> None:
    lines = run("nvidia_smi.py", *APPS).stdout.splitlines()
    assert lines[1:] == [f"{miner.pid}, xmrig, 4096 MiB"]
    util = run("nvidia_smi.py", "--query-gpu=index,utilization.gpu,memory.used", "--format=csv")
    rows = util.stdout.splitlines()
    assert rows[4] == "3, 100 %, 4097 MiB" and rows[1] == "0, 0 %, 1 MiB"


def test_stop_ends_every_gpu_process(run: Run, miner: subprocess.Popen[bytes]) -> None:
    assert run("gpu_app.py", "--stop").returncode == 0
    assert miner.wait(timeout=10) == 0
    assert run("nvidia_smi.py", *APPS).stdout.count("\n") == 1


def _install_nccl(run: Run) -> None:
    assert run("simpkg.py", "configure", "libnccl2", "nccl", "2.18.5", "cuda=12.2").returncode == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_ranks_on_two_nodes_connect_over_tcp(node: Path, run: Run) -> None:
    _install_nccl(run)
    env = {"NCCL_COMM_ID": f"127.0.0.1:{_free_port()}", "GPUFORGE_SIM_HOSTS": "node-0,node-1"}
    argv = [sys.executable, "-S", str(TOOLS / "all_reduce_perf.py"), "-b", "8M", "-e", "8M"]
    peer = subprocess.Popen(
        [*argv, "-g", "1"],
        env=dict(os.environ, GPUFORGE_SIM_ROOT=str(node), GPUFORGE_SIM_RANK="1", **env),
        stdout=subprocess.PIPE,
        text=True,
    )
    root = run("all_reduce_perf.py", "-b", "8M", "-e", "8M", "-g", "1", env=env)
    assert peer.wait(timeout=30) == 0
    assert root.returncode == 0, root.stdout
    assert "on     node-1" in root.stdout and "# Avg bus bandwidth" in root.stdout


def test_an_unreachable_peer_fails_as_nccl_does(run: Run) -> None:
    _install_nccl(run)
    env = {
        "NCCL_COMM_ID": f"127.0.0.1:{_free_port()}",
        "GPUFORGE_SIM_HOSTS": "node-0,node-1",
        "GPUFORGE_SIM_RANK": "1",
        "GPUFORGE_SIM_NCCL_TIMEOUT": "0.5",
    }
    out = run("all_reduce_perf.py", "-b", "8M", "-e", "8M", "-g", "1", env=env)
    assert out.returncode == 3
    assert "NCCL WARN Net : Connect to 127.0.0.1<" in out.stdout
    assert "Test NCCL failure" in out.stdout
