"""Benchmark `gpuforge cost optimize` over the whole price snapshot.

The spec is tests/fixtures/specs/cost/three-clouds.yaml (10 pools over AWS, Azure and GCP), with
every cloud and every region allowed, so each pool's MILP sees every priced GPU row of the
three clouds that meets its needs. Times the option table, the solve (with and without the
binding-constraint analysis, which re-solves each pool once per relaxed requirement) and the
command end to end in a subprocess; prints a Markdown table.

    .venv/bin/python bench/bench_cost.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from gpuforge.catalog import load_catalog
from gpuforge.check import CheckContext
from gpuforge.cost import catalog_options, optimize
from gpuforge.spec import load_spec

SPEC = Path(__file__).parents[1] / "tests" / "fixtures" / "specs" / "cost" / "three-clouds.yaml"
ALL = ["aws", "azure", "gcp"]


def _time(action: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def _row(label: str, samples: list[float]) -> str:
    median = statistics.median(samples)
    return (
        f"| {label} | {len(samples)} | {median * 1000:.0f} ms | {min(samples) * 1000:.0f} ms "
        f"| {max(samples) * 1000:.0f} ms |"
    )


def main() -> int:
    """Time the optimizer over the whole snapshot and print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    catalog = load_catalog()
    ctx = CheckContext(doc=load_spec(SPEC), catalog=catalog, as_of=date.today())
    first = _time(lambda: catalog_options(catalog), 1)
    options = catalog_options(catalog)
    rows = {(o.cloud, o.instance_type, o.region) for o in options}
    solve = _time(lambda: optimize(ctx, ALL, ["*"], options, explain=False), args.runs)
    explain = _time(lambda: optimize(ctx, ALL, ["*"], options, explain=True), args.runs)
    script = Path(sys.executable).with_name("gpuforge")
    command = [str(script), "cost", "optimize", str(SPEC), "--region", "*", "--json"]
    end_to_end = _time(lambda: subprocess.run(command, capture_output=True, check=False), args.runs)
    print(
        f"{len(options)} options ({len(rows)} instance-type x region rows, on-demand and spot) "
        f"for {len(ctx.doc.spec.pools)} pools"
    )
    print("| measurement | runs | median | min | max |")
    print("|---|---|---|---|---|")
    print(_row("option table from the catalog (first, catalog loads)", first))
    print(_row("optimize 10 pools, MILP only", solve))
    print(_row("optimize 10 pools, with binding-constraint analysis", explain))
    print(_row("`gpuforge cost optimize --region '*' --json` (subprocess)", end_to_end))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
