"""The command local node resources call back with must not depend on how gpuforge started."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gpuforge.ops import gpuforge_command


def _env(tmp_path: Path, *names: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in names:
        (bin_dir / name).write_text("")
    return bin_dir


@pytest.mark.parametrize("started_as", ["python", "python3", "python3.11"])
def test_same_command_whichever_interpreter_name_started_gpuforge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started_as: str
) -> None:
    bin_dir = _env(tmp_path, "python", "python3", "python3.11")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(bin_dir / started_as))
    assert gpuforge_command() == f"{bin_dir / 'python3'} -m gpuforge"


def test_falls_back_to_the_running_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(tmp_path)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setattr(sys, "executable", "/opt/py/bin/python3.12")
    assert gpuforge_command() == "/opt/py/bin/python3.12 -m gpuforge"
