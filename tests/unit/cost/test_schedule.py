"""`cost.schedule`: weekly cron windows, the week they make (across its end), the savings in
`gpuforge cost`, and the scaling rendered for AWS (scheduled actions) and Azure (profiles)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gpuforge.check import make_context, solve_lock
from gpuforge.cli import build_app
from gpuforge.errors import InputError, SpecError
from gpuforge.render import render_deployment
from gpuforge.spec import load_spec_text, nodes_by_minute, parse_cron, scaling_actions


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error` (with `ok` beside either)."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    return {"ok": body["ok"], **inner} if isinstance(inner, dict) else inner


ROOT = Path(__file__).parents[3]
THREE_CLOUDS = ROOT / "tests" / "fixtures" / "specs" / "cost" / "three-clouds.yaml"
runner = CliRunner()
HOUR = 60
DAY = 24 * HOUR


def test_cron_forms_and_refusals() -> None:
    assert parse_cron("0 20 * * mon-fri").weekdays == (1, 2, 3, 4, 5)
    assert parse_cron("30 8 * * 7").weekdays == (0,)  # 7 is Sunday
    assert parse_cron("0 8 * * fri-sun").weekdays == (0, 5, 6)
    assert parse_cron("0 */6 * * *").hours == (0, 6, 12, 18)
    assert parse_cron("0 20 * * mon-fri").canonical == "0 20 * * 1,2,3,4,5"
    for bad in ("0 20 1 * *", "61 1 * * *", "0 20 * *", "0 20 * * fri-mon", "$(x) 1 * * *"):
        with pytest.raises(ValueError):
            parse_cron(bad)


def test_a_window_across_the_week_s_end() -> None:
    actions = scaling_actions([("0 20 * * fri", "0 8 * * mon", 1)], 4)

    week = nodes_by_minute(actions, 4)

    assert week[0] == 1  # Monday 00:00 is still inside Friday's window
    assert week[8 * HOUR] == 4  # Monday 08:00 the window ends
    assert week[4 * DAY + 20 * HOUR - 1] == 4 and week[4 * DAY + 20 * HOUR] == 1
    assert sum(4 - n for n in week) == 3 * 60 * HOUR  # 60 h a week at 1 node instead of 4


def test_cost_reports_the_schedule_s_saving() -> None:
    result = runner.invoke(build_app(), ["cost", str(THREE_CLOUDS), "--json"])
    data = _payload(result.stdout)
    dev = data["pools"]["dev"]
    saving = data["schedules"]["dev"]

    # Weeknights 20:00-08:00 Monday to Thursday (4 x 12 h) and Friday 20:00 to Monday 08:00
    # (60 h): 108 h a week with 0 of 8 nodes.
    off = 108 * 8
    assert saving["without_schedule_node_hours_per_week"] == 8 * 168
    assert saving["node_hours_per_week"] == 8 * 168 - off
    per_node = dev["node_usd_per_hour"]["on-demand"]
    assert saving["saved_usd_per_month"] == pytest.approx(off * per_node * 730 / 168, abs=0.01)
    assert data["usd_per_month_with_schedules"] == pytest.approx(
        data["usd_per_month"]["market"] - saving["saved_usd_per_month"], abs=0.02
    )


SPEC = """\
apiVersion: gpuforge/v1
kind: Cluster
name: sched
target: [aws/us-east-1, azure/eastus]
pools:
  aws-dev:
    target: aws/us-east-1
    instance_type: g6.12xlarge
    count: 4
    market: spot-with-fallback
  azure-dev:
    target: azure/eastus
    instance_type: Standard_NC24ads_A100_v4
    count: 3
    market: spot-with-fallback
cost:
  schedule:
    - {pool: aws-dev, start: "0 20 * * mon-fri", end: "30 7 * * mon-fri", count: 1}
    - {pool: azure-dev, start: "0 19 * * fri", end: "0 7 * * mon", count: 0}
"""


def _render(text: str, out: Path) -> Path:
    doc = load_spec_text(text, "sched.yaml")
    render_deployment(doc.spec, solve_lock(make_context(doc, date(2026, 11, 28))), out)
    return out


def test_aws_scheduled_actions_and_azure_profiles_are_rendered(tmp_path: Path) -> None:
    out = _render(SPEC, tmp_path / "deploy")
    aws = json.loads((out / "terraform/aws-us-east-1/terraform.tfvars.json").read_text("utf-8"))
    azure_main = (out / "terraform/azure-eastus/main.tf").read_text("utf-8")
    aws_main = (out / "terraform/aws-us-east-1/main.tf").read_text("utf-8")

    text = json.dumps(aws) + aws_main
    assert '"0 20 * * 1,2,3,4,5"' in text and '"30 7 * * 1,2,3,4,5"' in text
    assert "w0-start" in text and "w0-end" in text
    assert '"Friday"' in azure_main and '"Monday"' in azure_main
    assert "hour" in azure_main and "19" in azure_main


def test_azure_window_firing_twice_a_day_is_refused_by_render(tmp_path: Path) -> None:
    text = SPEC.replace('start: "0 19 * * fri"', 'start: "0 19,21 * * fri"')
    with pytest.raises(InputError, match="one hour and minute"):
        _render(text, tmp_path / "deploy")


def test_hostile_cron_text_is_refused_by_the_spec() -> None:
    with pytest.raises(SpecError) as error:
        load_spec_text(SPEC.replace('"0 20 * * mon-fri"', '"0 20 * * mon-fri; rm -rf /"'))
    assert error.value.problems[0].location.path == "cost.schedule[0].start"
