"""Fixtures: a seeded node root on disk, and a runner for the in-node tool scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gpuforge.fleet.sim import get_profile, seed_node

TOOLS = Path(__file__).resolve().parents[3] / "src" / "gpuforge" / "fleet" / "sim" / "tools"

Run = Callable[..., subprocess.CompletedProcess[str]]


def run_tool(
    root: Path, tool: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one tool script against the node root `root`, as a node's shell would."""
    full_env = dict(os.environ, GPUFORGE_SIM_ROOT=str(root), **(env or {}))
    return subprocess.run(
        [sys.executable, "-S", str(TOOLS / tool), *args],
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
    )


def make_node(root: Path, profile: str = "hgx-h100-8", driver: str | None = "535.183.01") -> Path:
    """Seed a node root and, unless `driver` is None, record an installed driver."""
    seed_node(root, get_profile(profile), "node-0", 0)
    if driver:
        result = run_tool(
            root,
            "simpkg.py",
            "configure",
            "nvidia-driver-535-server",
            "driver",
            driver,
            "flavor=open",
            "branch=535",
            "cuda=12.2",
        )
        assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def node(tmp_path: Path) -> Path:
    """An HGX H100 node with driver 535.183.01 installed."""
    return make_node(tmp_path / "node")


@pytest.fixture
def run(node: Path) -> Run:
    """Run a tool on the `node` fixture: run("nvidia_smi.py", "-L")."""
    return lambda tool, *args, **kw: run_tool(node, tool, *args, **kw)
