"""`gpuforge fleet` input errors: exit codes and fixes, without starting any node."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from gpuforge.cli import fleet_cmds


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error` (with `ok` beside either)."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    return {"ok": body["ok"], **inner} if isinstance(inner, dict) else inner


def _app() -> typer.Typer:
    app = typer.Typer()
    fleet_cmds.register(app)
    return app


def _invoke(*args: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(_app(), ["fleet", *args])
    return result.exit_code, _payload(result.stdout)


def test_node_up_rejects_a_subnet_that_is_not_a_24(tmp_path: Path) -> None:
    code, body = _invoke(
        "node-up", "--cluster", "c", "--name", "n", "--address", "10.251.7.11",
        "--subnet", "10.251.0.0/16", "--profile", "hgx-h100-8",
        "--state-dir", str(tmp_path), "--json",
    )  # fmt: skip
    assert code == 2
    assert body["ok"] is False
    assert "/24" in str(body["fix"])


def test_node_up_rejects_an_address_outside_the_subnet(tmp_path: Path) -> None:
    code, body = _invoke(
        "node-up", "--cluster", "c", "--name", "n", "--address", "10.251.8.11",
        "--subnet", "10.251.7.0/24", "--profile", "hgx-h100-8",
        "--state-dir", str(tmp_path), "--json",
    )  # fmt: skip
    assert code == 2
    assert "10.251.7.2" in str(body["fix"])


def test_status_of_an_empty_state_dir_is_empty(tmp_path: Path) -> None:
    code, body = _invoke("status", "--state-dir", str(tmp_path), "--json")
    assert code == 0
    assert body == {"ok": True, "nodes": []}


def test_down_rejects_all_with_cluster(tmp_path: Path) -> None:
    code, body = _invoke("down", "--all", "--cluster", "x", "--state-dir", str(tmp_path), "--json")
    assert code == 2
    assert body["ok"] is False


def test_inject_rejects_an_unknown_fault_listing_known_ones(tmp_path: Path) -> None:
    code, body = _invoke("inject", "n", "melted", "--state-dir", str(tmp_path), "--json")
    assert code == 2
    assert "sshd-killed" in str(body["fix"])


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to an unprivileged user")
def test_up_as_non_root_says_root_is_needed(tmp_path: Path) -> None:
    tmp_path.chmod(0o777)
    driver = (
        "import typer; from gpuforge.cli import fleet_cmds; app = typer.Typer(); "
        "fleet_cmds.register(app); app()"
    )
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
         driver, "fleet", "up", "--profile", "hgx-h100-8", "--state-dir", str(tmp_path), "--json"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    body = _payload(done.stdout)
    assert done.returncode == 1
    assert "needs root" in str(body["message"])
    assert "sudo" in str(body["fix"])
