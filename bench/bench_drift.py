"""Benchmark `gpuforge drift` on the local fleet: one probe per node of a 16-node cluster.

Run as root: `.venv/bin/python bench/bench_drift.py [--nodes 16] [--runs 3]`. Brings the cluster
up once, times `drift` on the converged cluster (target <= 10 s), then changes one node behind
Ansible's back (its NCCL environment file) and times `drift` and `drift --fix`. Prints a
Markdown table for BENCHMARKS.md; uses its own cluster name, folder and fleet state dir, and
tears down.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
software: {{os: debian-12, driver: "580", cuda: "12.9"}}
gpu: {{persistence_mode: true, power_limit_w: 650, compute_mode: EXCLUSIVE_PROCESS}}
validation: {{dcgm_level: 1, nccl_min_busbw_gbps: 300}}
"""
TARGET_S = 10.0


def _gpuforge(args: list[str], env: dict[str, str]) -> tuple[float, int, dict[str, object]]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "gpuforge", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.monotonic() - start
    try:
        payload = json.loads(done.stdout) if "--json" in args else {}
    except ValueError:
        payload = {"stdout": done.stdout[-2000:], "stderr": done.stderr[-2000:]}
    return elapsed, done.returncode, payload


def main() -> int:
    """Bring a cluster up, time drift on it, tear it down; print the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    name = f"bench-drift-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        folder = Path(tmp)
        spec = folder / "cluster.yaml"
        spec.write_text(SPEC.format(name=name, nodes=args.nodes), encoding="utf-8")
        env = {**os.environ, "GPUFORGE_FLEET_DIR": str(folder / "fleet")}
        try:
            _, rc, payload = _gpuforge(["up", str(spec), "--json"], env)
            if rc != 0:
                print(json.dumps(payload)[-3000:], file=sys.stderr)
                return 1
            clean = []
            for _ in range(args.runs):
                seconds, rc, _ = _gpuforge(["drift", str(spec), "--json"], env)
                clean.append((seconds, rc))
            scope = ["--cluster", name, "--state-dir", str(folder / "fleet")]
            ssh = ["fleet", "ssh", *scope, "gpu-0", "--", "echo NCCL_DEBUG=INFO >> /etc/nccl.conf"]
            _gpuforge(ssh, env)
            drifted, drift_rc, _ = _gpuforge(["drift", str(spec), "--json"], env)
            fixed, fix_rc, _ = _gpuforge(["drift", str(spec), "--fix", "--json"], env)
        finally:
            _gpuforge(["destroy", str(spec), "--yes", "--json"], env)
    median = statistics.median(s for s, _ in clean)
    print(f"| case ({args.nodes} nodes) | seconds | exit | target |")
    print("|---|---|---|---|")
    print(
        f"| drift, converged (median of {len(clean)}) | {median:.1f} | "
        f"{','.join(str(rc) for _, rc in clean)} | <= {TARGET_S:g} s "
        f"({'met' if median <= TARGET_S else 'not met'}) |"
    )
    print(f"| drift, one node drifted | {drifted:.1f} | {drift_rc} | |")
    print(f"| drift --fix (probe, fix, probe) | {fixed:.1f} | {fix_rc} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
