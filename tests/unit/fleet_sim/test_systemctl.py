"""Nodes run a Python `systemctl` stand-in from cached bytecode: same behaviour, less start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gpuforge.fleet.sim._seed import (
    LIB_DIR,
    SYSTEMCTL_MODULE,
    build_tool_library,
    install_tool_library,
    stand_in_systemctl,
)

FAKE_SYSTEMCTL = """#!/usr/bin/python3
import sys
print("fake systemctl", " ".join(sys.argv[1:]), sys.argv[0])
sys.exit(3 if "is-active" in sys.argv else 0)
"""


def install_fast_systemctl(root: Path, host: Path) -> bool:
    """Build a tool library with `host` as the stand-in systemctl, copy it into `root`; True when
    a systemctl launcher was installed."""
    install_tool_library(root, build_tool_library(root.parent / f"{root.name}-cache", host))
    return (root / "usr/bin/systemctl").exists()


def _run_launcher(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the node's launcher with its library folder pointed into `root`."""
    launcher = (root / "usr/bin/systemctl").read_text()
    local = launcher.replace(f'"/{LIB_DIR.as_posix()}"', repr(str(root / LIB_DIR)))
    script = root / "launcher"
    script.write_text(local)
    return subprocess.run(
        [sys.executable, "-S", str(script), *args], capture_output=True, text=True, check=False
    )


def test_launcher_runs_the_stand_in_with_its_arguments_and_exit_code(tmp_path: Path) -> None:
    host = tmp_path / "host-systemctl"
    host.write_text(FAKE_SYSTEMCTL)
    root = tmp_path / "node"
    assert install_fast_systemctl(root, host)
    assert (root / LIB_DIR / f"{SYSTEMCTL_MODULE}.py").read_text() == FAKE_SYSTEMCTL
    assert (root / "usr/bin/systemctl").stat().st_mode & 0o111
    assert (root / "usr/bin/systemctl").read_text().startswith("#!/usr/bin/python3 -S\n")
    done = _run_launcher(root, "is-active", "nvidia-dcgm")
    assert done.returncode == 3
    assert done.stdout.startswith("fake systemctl is-active nvidia-dcgm ")
    # argv[0] stays the launcher's path, as the stand-in would see it when run directly.
    assert done.stdout.strip().endswith("launcher")
    assert list((root / LIB_DIR / "__pycache__").glob(f"{SYSTEMCTL_MODULE}.*.pyc"))


def test_real_stand_in_reports_the_same_version_through_the_launcher(tmp_path: Path) -> None:
    stand_in = stand_in_systemctl()
    assert install_fast_systemctl(tmp_path, stand_in)
    direct = subprocess.run(
        [sys.executable, str(stand_in), "--version"], capture_output=True, text=True, check=False
    )
    through = _run_launcher(tmp_path, "--version")
    assert (through.returncode, through.stdout) == (direct.returncode, direct.stdout)
    module = (tmp_path / LIB_DIR / f"{SYSTEMCTL_MODULE}.py").read_text()
    assert "MinimumYield = 0.5" in stand_in.read_text()
    assert "\nMinimumYield = 0.1\n" in module
    assert "MinimumYield = 0.5" not in module


def test_only_the_start_up_wait_is_shortened(tmp_path: Path) -> None:
    host = tmp_path / "host-systemctl"
    host.write_text(FAKE_SYSTEMCTL + "MinimumYield = 0.5\nMinimumYield = 0.55\nOtherYield = 0.5\n")
    assert install_fast_systemctl(tmp_path / "node", host)
    module = (tmp_path / "node" / LIB_DIR / f"{SYSTEMCTL_MODULE}.py").read_text()
    assert module == FAKE_SYSTEMCTL + "MinimumYield = 0.1\nMinimumYield = 0.55\nOtherYield = 0.5\n"
