"""The monitoring role's GPU watch exporter on a simulated node: an unknown process on a GPU
counts on the next scrape; an allowed user's does not; a GPU busy for the whole window with no
allowed process counts as busy outside jobs."""

from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gpuforge.fleet.sim import get_profile, seed_node

REPO = Path(__file__).resolve().parents[3]
WATCH = (
    REPO / "src/gpuforge/ansible_collections/gpuforge/gpu/roles/monitoring/files/gpuforge-gpu-watch"
)
TOOLS = REPO / "src/gpuforge/fleet/sim/tools"


def _wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def node(tmp_path: Path) -> dict[str, str]:
    """A seeded H100 node with a driver, and an environment whose nvidia-smi is the node's."""
    root = tmp_path / "node"
    seed_node(root, get_profile("hgx-h100-8"), "node-0", 0)
    env = dict(os.environ, GPUFORGE_SIM_ROOT=str(root))
    configure = [sys.executable, "-S", str(TOOLS / "simpkg.py"), "configure"]
    driver = ["nvidia-driver-535-server", "driver", "535.183.01", "branch=535", "cuda=12.2"]
    subprocess.run([*configure, *driver], env=env, check=True, capture_output=True)
    shims = tmp_path / "bin"
    shims.mkdir()
    shim = shims / "nvidia-smi"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -S {TOOLS / "nvidia_smi.py"} "$@"\n')
    shim.chmod(0o755)
    env["PATH"] = f"{shims}:{env['PATH']}"
    return env


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def _watch(tmp_path: Path, env: dict[str, str], config: dict[str, object]) -> Iterator[str]:
    path = tmp_path / "watch.json"
    path.write_text(json.dumps(config))
    port = _port()
    proc = subprocess.Popen([sys.executable, str(WATCH), str(path), str(port)], env=env)
    url = f"http://127.0.0.1:{port}/metrics"

    def up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    try:
        _wait_for(up, "the watch to listen")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        text: str = answer.read().decode()
    return text


@contextmanager
def _gpu_process(node: dict[str, str], name: str) -> Iterator[int]:
    """A process named `name` on GPU 2, run by this test's user."""
    argv = [name, "-S", str(TOOLS / "gpu_app.py"), "2", "2048", "100"]
    proc = subprocess.Popen(argv, executable=sys.executable, env=node)
    folder = Path(node["GPUFORGE_SIM_ROOT"]) / "var/lib/gpuforge-sim/gpu-apps"
    try:
        _wait_for(lambda: (folder / f"{proc.pid}.json").is_file(), "the process to register")
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def miner(node: dict[str, str]) -> Iterator[int]:
    """A process named xmrig on GPU 2, run by this test's user."""
    with _gpu_process(node, "xmrig") as pid:
        yield pid


def test_an_unknown_process_counts_on_the_next_scrape(
    tmp_path: Path, node: dict[str, str], miner: int
) -> None:
    with _watch(tmp_path, node, {"processes": ["python*"]}) as url:
        text = _scrape(url)
        assert "gpuforge_gpu_unknown_processes 1" in text
        assert f'pid="{miner}",process_name="xmrig",user="{getpass.getuser()}"}} 1' in text


def test_a_process_whose_name_holds_commas_counts_too(tmp_path: Path, node: dict[str, str]) -> None:
    """nvidia-smi's CSV does not quote names: a miner named `xm, rig,x` is still counted."""
    with _gpu_process(node, "xm, rig,x") as pid, _watch(tmp_path, node, {}) as url:
        text = _scrape(url)
    assert "gpuforge_gpu_unknown_processes 1" in text
    assert f'pid="{pid}",process_name="xm, rig,x",' in text


def test_an_allowed_users_process_is_known(
    tmp_path: Path, node: dict[str, str], miner: int
) -> None:
    del miner
    with _watch(tmp_path, node, {"users": [getpass.getuser()]}) as url:
        assert "gpuforge_gpu_unknown_processes 0" in _scrape(url)
        assert "gpuforge_gpu_busy_outside_jobs 0" in _scrape(url)


def test_a_gpu_busy_for_the_whole_window_counts_outside_jobs(
    tmp_path: Path, node: dict[str, str], miner: int
) -> None:
    del miner
    config = {"interval_s": 1, "sustain_s": 2, "busy_pct": 50}
    with _watch(tmp_path, node, config) as url:
        _wait_for(lambda: "gpuforge_gpu_busy_outside_jobs 1" in _scrape(url), "a busy GPU")
        assert "gpuforge_gpu_busy_outside_jobs 1" in _scrape(url)
