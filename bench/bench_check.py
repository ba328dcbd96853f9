"""Benchmark `gpuforge check` on a spec of 10,000+ GPUs spread over many pools and targets.

Generates the spec (default: 125 pools x 10 nodes x 8 GPUs = 10,000 GPUs; GPU models, clouds,
instance types and software pins mixed), then times `gpuforge check` end to end in a
subprocess and load + check in process, and prints a Markdown table of the timings.

    .venv/bin/python bench/bench_check.py [--pools 125] [--nodes 10] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from gpuforge.catalog import load_catalog
from gpuforge.check import make_context, run_checks
from gpuforge.spec import load_spec

AS_OF = "2026-11-28"
# (target, pool body): each 8 GPUs per node, all valid so every rule runs its full course.
POOL_KINDS = [
    ("local", "gpu: H100:8"),
    ("local", "gpu: {model: A100-80GB, count: 8, mig: all-balanced}"),
    (
        "aws/us-east-1",
        "instance_type: p5.48xlarge\n    placement_group: true\n    network: {efa: true}",
    ),
    (
        "aws/us-east-1",
        "instance_type: p4d.24xlarge\n    placement_group: true\n    network: {efa: true}",
    ),
    ("azure/eastus", "instance_type: Standard_ND96isr_H100_v5"),
    ("gcp/us-central1", "instance_type: a3-highgpu-8g"),
    ("gcp/us-central1", "gpu: A100:8"),
    ("vsphere/dc1", "gpu: {model: L40S, count: 8, power_limit_w: 300}"),
    (
        "aws/us-west-2",
        "instance_type: g6e.48xlarge\n    placement_group: true\n    network: {efa: true}",
    ),
]
SOFTWARE = [
    None,
    '{driver: "580", cuda: "12.9"}',
    '{driver: "570", cuda: "12.8"}',
    '{cuda: "13.0"}',
    '{driver: "550"}',
]


def make_spec(pools: int, nodes: int) -> str:
    """A valid spec with `pools` pools of `nodes` nodes, cycling GPU kinds and software pins."""
    targets = sorted({target for target, _ in POOL_KINDS})
    lines = [
        "apiVersion: gpuforge/v1",
        "kind: Cluster",
        "name: bench",
        f"target: [{', '.join(targets)}]",
        "pools:",
    ]
    for index in range(pools):
        target, body = POOL_KINDS[index % len(POOL_KINDS)]
        lines += [f"  p{index}:", f"    target: {target}", f"    count: {nodes}", f"    {body}"]
        software = SOFTWARE[index % len(SOFTWARE)]
        if software:
            lines.append(f"    software: {software}")
    lines += [
        "software: {os: ubuntu-22.04, nccl: auto, cudnn: auto}",
        "gpu: {persistence_mode: true, compute_mode: EXCLUSIVE_PROCESS}",
        "security: {ssh_cidrs: [10.0.0.0/8], public_ip: false}",
    ]
    return "\n".join(lines) + "\n"


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
    """Generate the spec, time check end to end and in process, print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=125)
    parser.add_argument("--nodes", type=int, default=10, help="nodes per pool")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    script = Path(sys.executable).with_name("gpuforge")
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "bench.yaml"
        spec.write_text(make_spec(args.pools, args.nodes), encoding="utf-8")

        def in_process() -> int:
            ctx = make_context(load_spec(spec), date.fromisoformat(AS_OF))
            return len(run_checks(ctx))

        def subprocess_check() -> None:
            done = subprocess.run(
                [str(script), "check", str(spec), "--as-of", AS_OF, "--json"],
                capture_output=True,
                check=False,
            )
            if done.returncode != 0:
                tail = (done.stdout + done.stderr)[-2000:].decode(errors="replace")
                raise SystemExit(f"check failed ({done.returncode}): {tail}")

        cold = _time(in_process, 1)  # loads the catalog and the instance table
        doc = load_spec(spec)
        gpus = sum(p.count * (p.gpu.count if p.gpu else 8) for p in doc.spec.pools.values())
        nodes = sum(p.count for p in doc.spec.pools.values())
        warm = _time(in_process, args.runs)
        load_only = _time(lambda: load_spec(spec), args.runs)
        ctx_doc = load_spec(spec)
        checks_only = _time(
            lambda: run_checks(make_context(ctx_doc, date.fromisoformat(AS_OF))), args.runs
        )
        end_to_end = _time(subprocess_check, args.runs)
        findings = in_process()

    load_catalog.cache_clear()
    catalog_load = _time(lambda: load_catalog().instances, 1)
    print(
        f"Spec: {len(doc.spec.pools)} pools, {nodes} nodes, {gpus} GPUs, "
        f"{len(POOL_KINDS)} pool kinds over {len({t for t, _ in POOL_KINDS})} targets, "
        f"{findings} finding(s).\n"
    )
    print("| measurement | runs | median | min | max |")
    print("|---|---|---|---|---|")
    print(_row("`gpuforge check --json` (subprocess, end to end)", end_to_end))
    print(_row("load + check in process, first run (catalog loads)", cold))
    print(_row("load + check in process, warm", warm))
    print(_row("load spec only (YAML + validation), warm", load_only))
    print(_row("run all rules only (solver per pool), warm", checks_only))
    print(_row("catalog + instance table load", catalog_load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
