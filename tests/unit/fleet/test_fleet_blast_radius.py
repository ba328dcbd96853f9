"""No blast radius by default: `fleet down` asks before removing every cluster on the machine,
and no hint ever suggests a command that touches clusters other than the one at hand."""

from __future__ import annotations

import ast
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gpuforge.cli import fleet_cmds
from gpuforge.fleet._naming import bridge_name
from gpuforge.fleet._state import ClusterRecord, NodeRecord, StateStore

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "gpuforge"


def _invoke(*args: str) -> tuple[int, dict[str, object]]:
    app = typer.Typer()
    fleet_cmds.register(app)
    result = CliRunner().invoke(app, ["fleet", *args])
    body = json.loads(result.stdout)
    return result.exit_code, body["result"] if "result" in body else body["error"]


def _two_clusters(state: Path) -> list[str]:
    """Two clusters recorded as the fleet records them (key folder included), each with one
    stopped node."""
    store = StateStore(state)
    names = [f"br-{secrets.token_hex(4)}" for _ in range(2)]
    for third, name in enumerate(names, start=80):
        subnet = f"10.251.{third}.0/24"
        store.put_cluster(ClusterRecord(name, subnet, bridge_name(name)))
        (store.cluster_dir(name) / "ssh").mkdir()
        node = NodeRecord(f"{name}-gpu-0", name, "gpu", "hgx-h100-8", f"10.251.{third}.11", subnet)
        node.state = "stopped"
        store.put_node(node)
    return names


def _recorded(state: Path) -> list[str]:
    return [c.name for c in StateStore(state).clusters()]


@pytest.mark.parametrize("flags", [[], ["--all"], ["--yes"]], ids=["bare", "all", "yes"])
def test_down_without_a_cluster_and_no_terminal_exits_2_and_removes_nothing(
    tmp_path: Path, flags: list[str]
) -> None:
    names = _two_clusters(tmp_path)
    code, body = _invoke("down", *flags, "--state-dir", str(tmp_path), "--json")
    assert code == 2
    assert all(name in str(body["message"]) for name in names)
    assert "--cluster NAME" in str(body["fix"]) and "--all --yes" in str(body["fix"])
    assert _recorded(tmp_path) == sorted(names)


def test_down_on_a_terminal_asks_first_and_no_keeps_every_cluster(tmp_path: Path) -> None:
    names = _two_clusters(tmp_path)
    controller, terminal = os.openpty()
    try:
        os.write(controller, b"n\n")
        done = subprocess.run(
            [sys.executable, "-m", "gpuforge", "fleet", "down", "--state-dir", str(tmp_path)],
            stdin=terminal, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(terminal)
        os.close(controller)
    assert done.returncode == 0, done.stderr
    assert "Remove every node of 2 cluster(s)" in done.stdout
    assert "nothing removed" in done.stdout
    assert _recorded(tmp_path) == sorted(names)


@pytest.mark.skipif(os.geteuid() != 0, reason="removing nodes needs root")
def test_down_all_yes_removes_every_cluster(tmp_path: Path) -> None:
    names = _two_clusters(tmp_path)
    code, body = _invoke("down", "--all", "--yes", "--state-dir", str(tmp_path), "--json")
    assert code == 0, body
    assert sorted(body["removed"]) == sorted(f"{name}-gpu-0" for name in names)  # type: ignore[call-overload]
    assert _recorded(tmp_path) == []


def test_a_corrupt_node_record_never_suggests_removing_every_cluster(tmp_path: Path) -> None:
    names = _two_clusters(tmp_path)
    broken = StateStore(tmp_path).node_dir(names[0], f"{names[0]}-gpu-0") / "node.json"
    for copy in (broken, broken.with_name("node.json.bak")):
        copy.write_text("{not json")
    code, body = _invoke("status", "--state-dir", str(tmp_path), "--json")
    assert code == 2
    assert str(broken) in str(body["message"]) + str(body.get("problems", ""))
    fix = str(body["fix"])
    assert fix and "--all" not in fix
    assert "fleet down" not in fix or f"--cluster {names[0]}" in fix


def _texts(tree: ast.AST) -> list[str]:
    """Every string literal of a module but docstrings, f-strings joined from their literals."""
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.JoinedStr):
            found.append(
                "".join(
                    part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
                )
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
    return found


def test_no_text_suggests_fleet_down_of_every_cluster() -> None:
    """Every hint or message that names `fleet down` names one cluster with it."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for text in _texts(ast.parse(path.read_text(encoding="utf-8"))):
            if "fleet down" in text and "--cluster" not in text:
                offenders.append(f"{path.relative_to(PACKAGE)}: {text!r}")
    assert not offenders, "\n".join(offenders)
