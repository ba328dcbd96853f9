"""Fixtures shared by the unit tests of several layers."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


def _grow(mount: Path, size: str = "8m") -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)


@pytest.fixture
def grow_disk() -> Callable[..., None]:
    """`grow_disk(small_disk, "8m")` gives the disk room: what the user does by freeing space."""
    return _grow


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 16 KiB tmpfs under tmp_path, so writes fail with ENOSPC as on a full disk;
    unmounted afterwards (root only, else skipped). `grow_disk` frees space on it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k,mode=0755", "gpuforge-test", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)
