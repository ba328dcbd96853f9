"""A full disk during `up`: a clear error (exit 3) and `up --resume` goes on once there is room.

The deployment folder is a real 16 KiB tmpfs: check and lock fit in it, the rendered files do
not. Terraform is pinned to a path that does not exist, so the resumed run stops at provision
(exit 2, ToolMissingError) and never starts fleet nodes: what is proven is that it resumed
after the step the disk stopped, and completed that step.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gpuforge.cli import build_app


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error` (with `ok` beside either)."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    return {"ok": body["ok"], **inner} if isinstance(inner, dict) else inner


EXAMPLES = Path(__file__).parents[3] / "examples"


def _up(spec: Path, deploy: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        build_app(), ["up", str(spec), "--deploy-dir", str(deploy), "--json", *extra]
    )
    assert isinstance(result.exception, SystemExit | None), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout


def _steps(deploy: Path) -> list[tuple[str, str]]:
    lines = (deploy / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    return [(r["step"], r["status"]) for r in records if r["step"].startswith("up:")]


def test_up_stops_clearly_on_a_full_disk_and_resumes_once_there_is_room(
    tmp_path: Path,
    small_disk: Path,
    grow_disk: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GPUFORGE_TERRAFORM", str(tmp_path / "no-terraform"))
    monkeypatch.setenv("GPUFORGE_FLEET_DIR", str(tmp_path / "fleet"))
    spec = tmp_path / "local.yaml"
    shutil.copyfile(EXAMPLES / "local.yaml", spec)
    shutil.copyfile(EXAMPLES / "local.lock", tmp_path / "local.lock")

    code, out = _up(spec, small_disk)

    assert code == 3
    body = _payload(out)
    assert body["message"].startswith(f"no space left on the device holding {small_disk}")
    assert "`gpuforge up --resume`" in body["fix"]
    assert _steps(small_disk)[-3:] == [
        ("up:lock", "done"),
        ("up:render", "started"),
        ("up:render", "failed"),
    ]

    grow_disk(small_disk, "8m")
    code, out = _up(spec, small_disk, "--resume")

    missing = tmp_path / "no-terraform"
    assert (code, _payload(out)["message"]) == (
        2,
        f"GPUFORGE_TERRAFORM points at {missing}, which is not an executable file",
    )
    resumed = _steps(small_disk)[-4:]
    assert resumed == [
        ("up:render", "started"),
        ("up:render", "done"),
        ("up:provision", "started"),
        ("up:provision", "failed"),
    ]
    assert json.loads((small_disk / "gpuforge.json").read_text())["cluster"] == "demo"
