"""`gpuforge cost rightsize`: DCGM exporter captures (text exposition and a Prometheus query
answer) give per-pool advice with money and percentile evidence; bad files are bad input."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gpuforge.catalog import load_catalog
from gpuforge.cli import build_app
from gpuforge.cost import pool_of_host
from gpuforge.cost._metrics import parse_exposition


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error` (with `ok` beside either)."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    return {"ok": body["ok"], **inner} if isinstance(inner, dict) else inner


ROOT = Path(__file__).parents[3]
SPEC = ROOT / "tests" / "fixtures" / "specs" / "cost" / "rightsize.yaml"
METRICS = ROOT / "tests" / "fixtures" / "cost" / "metrics"
TEXT = METRICS / "dcgm-exporter-scrapes.prom"
QUERY = METRICS / "prometheus-query-range.json"
runner = CliRunner()


def _rightsize(metrics: Path) -> tuple[int, dict[str, object]]:
    result = runner.invoke(
        build_app(), ["cost", "rightsize", str(SPEC), "--metrics", str(metrics), "--json"]
    )
    return result.exit_code, _payload(result.stdout)


@pytest.mark.parametrize("metrics", [TEXT, QUERY], ids=["exposition", "query-json"])
def test_busy_idle_and_comfortable_pools(metrics: Path) -> None:
    code, data = _rightsize(metrics)
    pools = data["pools"]

    assert code == 0 and data["unmatched_hosts"] == []
    assert pools["train"]["action"] == "grow"  # type: ignore[index]
    assert pools["train"]["new_nodes"] > 2  # type: ignore[index]
    assert pools["infer"]["action"] in ("shrink", "smaller instance type")  # type: ignore[index]
    assert pools["infer"]["saving_usd_per_month"] > 0  # type: ignore[index]
    assert pools["dev"]["action"] == "keep"  # type: ignore[index]
    for pool in ("train", "infer", "dev"):
        evidence = pools[pool]["evidence"]  # type: ignore[index]
        assert evidence["hosts"] and evidence["samples"] > 0 and evidence["window_hours"] >= 20


def _p95_by_regex(pool: str) -> float:
    """The pool's p95 utilisation read from the capture with a plain regex (not the parser)."""
    pattern = re.compile(
        rf'^DCGM_FI_DEV_GPU_UTIL\{{[^}}]*Hostname="rs-demo-{pool}-\d+"[^}}]*\}} (\d+) \d+$'
    )
    values = sorted(
        float(m.group(1))
        for line in TEXT.read_text(encoding="utf-8").splitlines()
        if (m := pattern.match(line))
    )
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def test_evidence_and_money_match_the_capture_and_the_catalog() -> None:
    _, data = _rightsize(TEXT)
    infer = data["pools"]["infer"]  # type: ignore[index]
    offer = load_catalog().instance("aws", "g6e.48xlarge").regions["us-east-1"]  # type: ignore[union-attr]

    assert infer["evidence"]["util_p95"] == pytest.approx(_p95_by_regex("infer"), abs=0.06)
    assert infer["evidence"]["gpus"] == 16
    assert infer["usd_per_hour"] == pytest.approx(2 * offer.on_demand)
    saving = (infer["usd_per_hour"] - infer["new_usd_per_hour"]) * 730
    assert infer["saving_usd_per_month"] == pytest.approx(saving, abs=0.01)


def test_a_malformed_line_is_bad_input_with_its_line(tmp_path: Path) -> None:
    lines = TEXT.read_text(encoding="utf-8").splitlines()[:5]
    lines.append('DCGM_FI_DEV_GPU_UTIL{gpu="0",Hostname="rs-demo-dev-0"} lots')
    bad = tmp_path / "bad.prom"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")

    code, data = _rightsize(bad)

    assert code == 2 and f"{bad}:6" in data["message"] and data["fix"]  # type: ignore[operator]


def test_an_aggregated_query_result_is_refused_with_a_fix(tmp_path: Path) -> None:
    answer = {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "3"]}]},
    }
    bad = tmp_path / "avg.json"
    bad.write_text(json.dumps(answer), encoding="utf-8")

    code, data = _rightsize(bad)

    assert code == 2 and "__name__" in data["message"]  # type: ignore[operator]
    assert "DCGM_FI_DEV_GPU_UTIL" in data["fix"]  # type: ignore[operator]


def test_hosts_map_to_pools_by_name() -> None:
    pools = ["train", "train-big", "dev"]

    assert pool_of_host("rs-demo-train-0", "rs-demo", pools) == "train"
    assert pool_of_host("train-big-12.ec2.internal", "rs-demo", pools) == "train-big"
    assert pool_of_host("dev-1", "rs-demo", pools) == "dev"
    assert pool_of_host("ip-10-0-1-5", "rs-demo", pools) is None


def test_escaped_label_values_are_read() -> None:
    line = (
        'DCGM_FI_DEV_GPU_UTIL{gpu="0",modelName="NVIDIA \\"H100\\" 80GB",'
        'Hostname="dev-0"} 42 1764892800000\n'
    )
    ((metric, labels, value, stamp),) = parse_exposition(line, "x.prom")

    assert metric == "DCGM_FI_DEV_GPU_UTIL" and value == 42 and stamp == 1764892800
    assert labels["modelName"] == 'NVIDIA "H100" 80GB'
