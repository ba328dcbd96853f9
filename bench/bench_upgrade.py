"""Benchmark `gpuforge upgrade`: a rolling driver upgrade (R570 -> R580) in 4 waves.

Run as root: `.venv/bin/python bench/bench_upgrade.py [--nodes 16]`. Brings a cluster up on
R570, upgrades it to R580 in 4 waves (canary of a quarter, then batches of a quarter, at most a
quarter drained at once) and reads each wave's seconds spent draining, applying, validating and
undraining from `upgrade --json`. Then it brings the cluster back to R570 (`up` with the R570
spec) and applies the same change in one unbatched run (`up` with the R580 spec: every node at
once, validated at the end), and prints both side by side as Markdown for BENCHMARKS.md. Uses
its own cluster name, folder and fleet state dir, and tears down.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SPEC = """\
apiVersion: gpuforge/v1
kind: Cluster
name: {name}
target: local
pools:
  gpu:
    gpu: H100:8
    count: {nodes}
fabric: {{type: infiniband}}
software: {{os: debian-12, driver: "{driver}", cuda: "12.8"}}
validation: {{dcgm_level: 1, nccl_min_busbw_gbps: 200}}
rollout: {{canary: {quarter}, batch: 25%, max_unavailable: 25%}}
"""
PHASES = ("drain", "apply", "validate", "undrain")


def _gpuforge(args: list[str], env: dict[str, str]) -> tuple[float, int, dict[str, Any]]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "gpuforge", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.monotonic() - start
    try:
        payload = json.loads(done.stdout)
    except ValueError:
        payload = {"stdout": done.stdout[-2000:], "stderr": done.stderr[-2000:]}
    return elapsed, done.returncode, payload


def _write(spec: Path, name: str, nodes: int, driver: str) -> None:
    quarter = max(1, nodes // 4)
    text = SPEC.format(name=name, nodes=nodes, driver=driver, quarter=quarter)
    spec.write_text(text, encoding="utf-8")


def _step(label: str, args: list[str], env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    seconds, rc, payload = _gpuforge(args, env)
    if rc != 0:
        raise SystemExit(f"{label} exited {rc}: {json.dumps(payload)[-3000:]}")
    return seconds, payload.get("result") or {}


def _table(nodes: int, waves: list[dict[str, Any]], rolling: float, unbatched: float) -> str:
    rows = [
        f"Rolling upgrade R570 -> R580 of {nodes} nodes in {len(waves)} waves",
        "",
        "| wave | nodes | " + " | ".join(f"{p} (s)" for p in PHASES) + " | total (s) |",
        "|---|---|" + "---|" * (len(PHASES) + 1),
    ]
    for wave in waves:
        seconds = wave["seconds"]
        total = sum(seconds.get(p, 0.0) for p in PHASES)
        cells = " | ".join(f"{seconds.get(p, 0.0):.1f}" for p in PHASES)
        rows.append(f"| {wave['name']} | {len(wave['nodes'])} | {cells} | {total:.1f} |")
    rows += [
        "",
        "| the same change | wall time (s) | ratio |",
        "|---|---|---|",
        f"| one unbatched run (`up`, every node at once) | {unbatched:.1f} | 1.00 |",
        f"| rolling `upgrade` in {len(waves)} gated waves | {rolling:.1f} | "
        f"{rolling / unbatched:.2f} |",
    ]
    return "\n".join(rows)


def main() -> int:
    """Up on R570, rolling upgrade to R580, back to R570, unbatched to R580; print, tear down."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=16)
    args = parser.parse_args()
    name = f"bench-upg-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="bench-upgrade-") as tmp:
        folder = Path(tmp)
        spec = folder / "cluster.yaml"
        env = {**os.environ, "GPUFORGE_FLEET_DIR": str(folder / "fleet")}
        try:
            _write(spec, name, args.nodes, "570")
            _step("up (R570)", ["up", str(spec)], env)
            _write(spec, name, args.nodes, "580")
            rolling, result = _step("upgrade", ["upgrade", str(spec)], env)
            _write(spec, name, args.nodes, "570")
            _step("up back to R570", ["up", str(spec)], env)
            _write(spec, name, args.nodes, "580")
            unbatched, _ = _step("up (R580, unbatched)", ["up", str(spec)], env)
            print(_table(args.nodes, result["waves"], rolling, unbatched))
        finally:
            _gpuforge(["destroy", str(spec), "--yes"], env)
            scope = ["--cluster", name, "--state-dir", str(folder / "fleet")]
            _gpuforge(["fleet", "down", *scope], env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
