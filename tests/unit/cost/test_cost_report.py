"""`gpuforge cost SPEC`: per pool, per region and total, on every market, with the snapshot's
date and source; prices pinned in the lock survive a newer snapshot; the budget is a finding."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gpuforge.catalog import load_catalog
from gpuforge.check import make_context, solve_lock
from gpuforge.cli import build_app
from gpuforge.spec import load_spec


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error` (with `ok` beside either)."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    return {"ok": body["ok"], **inner} if isinstance(inner, dict) else inner


EXAMPLES = Path(__file__).parents[3] / "examples"
PRICES = Path(__file__).parents[3] / "src" / "gpuforge" / "catalog" / "data" / "prices"
runner = CliRunner()


def _cost(*args: str) -> tuple[int, dict[str, object]]:
    result = runner.invoke(build_app(), ["cost", *args, "--json"])
    return result.exit_code, _payload(result.stdout)


def test_aws_pool_priced_on_every_market() -> None:
    code, data = _cost(str(EXAMPLES / "aws-training.yaml"))

    offer = load_catalog().instance("aws", "p5.48xlarge").regions["us-west-2"]  # type: ignore[union-attr]
    assert offer.on_demand and offer.spot
    pool = data["pools"]["training"]  # type: ignore[index]
    assert code == 0
    assert pool["usd_per_hour"]["on-demand"] == pytest.approx(16 * offer.on_demand)
    assert pool["usd_per_hour"]["spot"] == pytest.approx(16 * offer.spot)
    assert pool["usd_per_hour"]["market"] == pytest.approx(16 * offer.spot)  # spot-with-fallback
    assert pool["usd_per_month"]["market"] == pytest.approx(16 * offer.spot * 730, abs=0.01)
    assert data["regions"]["aws/us-west-2"]["on-demand"] == pytest.approx(16 * offer.on_demand)  # type: ignore[index]
    assert "2026-11-28" in data["prices"] and "skypilot-catalog" in data["prices"]  # type: ignore[operator]


def test_every_example_has_a_report() -> None:
    for spec in sorted(EXAMPLES.glob("*.yaml")):
        if spec.name == "broken.yaml":
            continue
        code, data = _cost(str(spec))
        assert code == 0, spec
        assert "2026-11-28" in data["prices"]  # type: ignore[operator]


def test_multi_cloud_totals_and_unpriced_vsphere_pool() -> None:
    _, data = _cost(str(EXAMPLES / "multi-cloud-a100.yaml"))
    pools = data["pools"]

    assert pools["dc-infer"]["usd_per_hour"]["market"] is None  # type: ignore[index]
    assert set(data["regions"]) == {"aws/us-east-1", "azure/eastus"}  # type: ignore[arg-type]
    total = sum(p["usd_per_hour"]["market"] or 0 for p in pools.values())  # type: ignore[attr-defined]
    assert data["usd_per_hour"]["market"] == pytest.approx(total)  # type: ignore[index]


def _newer_aws_snapshot(tmp_path: Path, factor: float) -> Path:
    lines = (PRICES / "aws_gpu_vms.csv").read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cols = line.split(",")
        if cols[0] == "p5.48xlarge" and cols[5]:
            cols[5] = f"{float(cols[5]) * factor:.4f}"
        out.append(",".join(cols))
    path = tmp_path / "aws_gpu_vms.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def test_lock_pins_prices_against_a_newer_snapshot(tmp_path: Path) -> None:
    spec = tmp_path / "train.yaml"
    shutil.copy(EXAMPLES / "aws-training.yaml", spec)
    lock = solve_lock(make_context(load_spec(spec), date(2026, 11, 28)))
    (tmp_path / "train.lock").write_text(lock.dump(), encoding="utf-8")
    newer = _newer_aws_snapshot(tmp_path, 2.0)

    _, pinned = _cost(str(spec))
    _, moved = _cost(str(spec), "--prices", str(newer), "--prices-date", "2027-01-05")

    pinned_od = pinned["pools"]["training"]["usd_per_hour"]["on-demand"]  # type: ignore[index]
    assert pinned["pools"]["training"]["prices_from"] == "lock"  # type: ignore[index]
    assert "pinned in the lock" in pinned["prices"]  # type: ignore[operator]
    assert moved["pools"]["training"]["usd_per_hour"]["on-demand"] == pytest.approx(  # type: ignore[index]
        2 * pinned_od
    )
    assert "2027-01-05" in moved["prices"] and "loaded from" in moved["prices"]  # type: ignore[operator]


def test_malformed_snapshot_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "aws.csv"
    header = (PRICES / "aws_gpu_vms.csv").read_text(encoding="utf-8").splitlines()[0]
    path.write_text(
        header + "\np5.48xlarge,H100,8,192,2048,cheap,1.0,us-east-1,use1-az1\n", encoding="utf-8"
    )

    code, data = _cost(str(EXAMPLES / "aws-training.yaml"), "--prices", str(path))

    assert code == 2
    assert f"{path}:2" in data["message"] and "Price" in data["message"]  # type: ignore[operator]
    assert data["fix"]


def test_unknown_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")

    code, data = _cost(str(EXAMPLES / "aws-training.yaml"), "--prices", str(path))

    assert code == 2 and f"{path}:1" in data["message"]  # type: ignore[operator]


def test_over_budget_exits_1(tmp_path: Path) -> None:
    spec = tmp_path / "budget.yaml"
    text = (EXAMPLES / "aws-training.yaml").read_text(encoding="utf-8")
    spec.write_text(text + "cost: {budget_usd_per_hour: 100}\n", encoding="utf-8")

    code, data = _cost(str(spec))

    assert code == 1 and data["over_budget"] is True


def test_catalog_prices_filters_and_attributes() -> None:
    result = runner.invoke(
        build_app(), ["catalog", "prices", "--gpu", "H100", "--cloud", "gcp", "--json"]
    )
    data = _payload(result.stdout)

    assert result.exit_code == 0
    assert data["prices"]["gcp"]["date"] == "2026-11-28"
    assert data["rows"] and {r["cloud"] for r in data["rows"]} == {"gcp"}
    assert all(r["gpu"] == "H100" for r in data["rows"])
