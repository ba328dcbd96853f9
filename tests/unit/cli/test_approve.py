"""`up` asks before spending or destroying: the plan gate, and `up --dry-run` on a real plan."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from gpuforge.cli._approve import plan_gate, reasons_to_ask
from gpuforge.errors import InputError, ToolMissingError
from gpuforge.provision import PlanSummary, find_binary, parse_plan_json

GPUFORGE = Path(sys.executable).parent / "gpuforge"
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local.yaml"


def _plan(*actions: str, rtype: str = "null_resource") -> PlanSummary:
    """A plan as `terraform show -json` writes it, one resource per action."""
    changes = [
        {"address": f"{rtype}.n{i}", "type": rtype, "change": {"actions": action.split("+")}}
        for i, action in enumerate(actions)
    ]
    return parse_plan_json({"format_version": "1.2", "resource_changes": changes})


def test_creating_local_nodes_needs_no_question() -> None:
    assert reasons_to_ask({"local": _plan("create", "create")}) == []
    assert reasons_to_ask({"aws/us-west-2": _plan("no-op")}) == []


def test_a_cloud_plan_or_a_destructive_one_needs_a_yes() -> None:
    [cloud] = reasons_to_ask({"aws/us-west-2": _plan("create", rtype="aws_instance")})
    assert "aws/us-west-2" in cloud and "1 created" in cloud
    [local] = reasons_to_ask({"local": _plan("delete", "delete+create")})
    assert "1 replaced, 1 destroyed" in local


def _gate(**flags: bool) -> tuple[Console, object]:
    out = Console(file=io.StringIO(), width=200)
    options = {"yes": False, "dry_run": False, "quiet": False} | flags
    return out, plan_gate(out, cost=lambda: "cost: 98.32 USD/h", **options)


def test_without_a_terminal_and_without_yes_it_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    out, gate = _gate()
    with pytest.raises(InputError) as refused:
        gate({"aws/us-west-2": _plan("create", rtype="aws_instance")})  # type: ignore[operator]
    assert refused.value.exit_code == 2 and "--yes" in (refused.value.fix or "")
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "aws_instance" in text and "98.32 USD/h" in text  # the plan and the cost first


def test_yes_applies_and_dry_run_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    cloud = {"aws/us-west-2": _plan("create", rtype="aws_instance")}
    assert _gate(yes=True)[1](cloud) is True  # type: ignore[operator]
    assert _gate(dry_run=True, yes=True)[1]({"local": _plan("create")}) is False  # type: ignore[operator]
    assert _gate()[1]({"local": _plan("create")}) is True  # type: ignore[operator]


def _have_terraform() -> bool:
    try:
        find_binary()
    except ToolMissingError:
        return False
    return True


@pytest.mark.skipif(
    not _have_terraform(), reason="no tofu or terraform (scripts/setup-terraform.sh)"
)
def test_up_dry_run_plans_the_local_example_and_applies_nothing(tmp_path: Path) -> None:
    spec = tmp_path / "local.yaml"
    spec.write_text(EXAMPLE.read_text().replace("name: demo", "name: fh-dry"))
    deploy = tmp_path / "deploy"
    done = subprocess.run(
        [str(GPUFORGE), "up", str(spec), "--dry-run", "--deploy-dir", str(deploy), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "GPUFORGE_FLEET_DIR": str(tmp_path / "fleet")},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    body = json.loads(done.stdout)
    result = body["result"]
    assert result["stopped_at_plan"] is True and result["nodes"] == []
    assert result["plans"]["local"]["totals"]["create"] > 0
    assert not (deploy / "terraform" / "local" / "terraform.tfstate").exists()
    status = subprocess.run(
        [str(GPUFORGE), "fleet", "status", "--state-dir", str(tmp_path / "fleet"), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(status.stdout)["result"]["nodes"] == []
