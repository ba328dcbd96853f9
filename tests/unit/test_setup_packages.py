"""Set-up's package step never removes a package of the host (with systemd installed, too)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "setup-packages.sh"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="apt's simulation needs root here")


def _installed(package: str) -> bool:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Status}", package], capture_output=True, text=True
    )
    return done.stdout.endswith("ok installed")


def _setup_packages(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), "--dry-run", *args], capture_output=True, text=True, timeout=300
    )


def test_a_package_that_would_remove_systemd_stops_set_up_and_removes_nothing() -> None:
    if not _installed("systemd"):
        pytest.skip("needs a host with systemd installed (CI's host has it)")
    done = _setup_packages("systemctl")  # Debian's stand-in conflicts with systemd
    assert done.returncode == 1, done.stdout + done.stderr
    assert "set-up stopped: installing systemctl would remove a package" in done.stderr
    assert "Nothing was removed." in done.stderr and "To fix:" in done.stderr
    assert _installed("systemd") and not _installed("systemctl")


def test_the_default_packages_install_without_removing_any() -> None:
    done = _setup_packages()
    assert done.returncode == 0, done.stdout + done.stderr
    assert not [line for line in done.stdout.splitlines() if line.startswith("Remv ")]
