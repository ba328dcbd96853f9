"""Benchmark `gpuforge up` on the local fleet: a 16-node cluster from nothing to ready, and the
no-op re-run, gpuforge's way and, side by side in the same run, the same roles under Ansible's
defaults (plain SSH, 5 forks, no pipelining, no ControlPersist, no mitogen, every role run).

gpuforge's way: `gpuforge up` with its tuned settings; a re-run probes every node once and skips
configure where nothing drifted. Ansible's defaults: `gpuforge up --engine defaults` from nothing
(every node is new, so every role runs), and as the re-run site.yml itself, every role on every
node, as a user re-runs it without gpuforge (the re-run row then holds the playbook alone, none
of gpuforge's own steps).

Run as root: `.venv/bin/python bench/bench_up.py [--nodes 16]`. Prints Markdown tables for
BENCHMARKS.md: the comparison, and where the time of gpuforge's last no-op re-run went (each
step of its journal: the probe is Ansible through ansible-runner, provision is Terraform). Uses
its own cluster names, deploy dirs and fleet state dir, and tears down. Both profiles start from
the same state: the fleet's stand-in APT repository is built first.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error`, beside `ok` and `exit_code`."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    if not isinstance(inner, dict):
        return inner
    return {"ok": body["ok"], "exit_code": body["exit_code"], **inner}


NAN = float("nan")

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


def _run(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, object]]:
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
        payload = _payload(done.stdout)
    except ValueError:
        payload = {"stdout": done.stdout[-2000:], "stderr": done.stderr[-2000:]}
    payload["rc"] = done.returncode
    return elapsed, payload


def _journal_seconds(deploy: Path, step: str) -> float:
    """Seconds a step took in the last run, from the journal's timestamps."""
    from datetime import datetime

    started = finished = None
    for line in (deploy / "journal.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["step"] == f"up:{step}":
            stamp = datetime.fromisoformat(entry["ts"])
            if entry["status"] == "started":
                started = stamp
            elif entry["status"] == "done":
                finished = stamp
    return (finished - started).total_seconds() if started and finished else float("nan")


def _steps(deploy: Path, wall: float) -> list[tuple[str, float]]:
    """(step, seconds) of every step of the last `up` in the journal, in the order they started,
    and last the seconds of its `wall` time outside the journal (Python start-up and imports,
    reading the spec, the run lock, exit)."""
    from datetime import datetime

    lines = (deploy / "journal.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    starts = [
        i for i, e in enumerate(entries) if e["step"] == "up:check" and e["status"] == "started"
    ]
    run = entries[starts[-1] if starts else 0 :]
    span = datetime.fromisoformat(run[-1]["ts"]) - datetime.fromisoformat(run[0]["ts"])
    started: dict[str, datetime] = {}
    steps = []
    for entry in run:
        stamp = datetime.fromisoformat(entry["ts"])
        if entry["status"] == "started":
            started[entry["step"]] = stamp
        elif entry["status"] == "done" and entry["step"] in started:
            seconds = (stamp - started.pop(entry["step"])).total_seconds()
            steps.append((entry["step"], seconds))
    steps.append(("outside the journal (start-up, exit)", wall - span.total_seconds()))
    return steps


def _site_every_role(deploy: Path, env: dict[str, str]) -> tuple[float, int]:
    """site.yml on every node with every role its pool switches on, under Ansible's defaults:
    (seconds, changed tasks). Run in a child process so it sees this run's fleet state dir."""
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from gpuforge.configure import EngineSettings, run_playbook\n"
        "deploy = Path(sys.argv[1])\n"
        "inventory = deploy / 'ansible' / 'inventory' / 'hosts.yml'\n"
        "settings = EngineSettings.ansible_defaults()\n"
        "out = run_playbook(deploy, 'site', inventory, settings=settings)\n"
        "print(json.dumps({'changed': out.changed, 'failed': out.failed_hosts}))\n"
    )
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code, str(deploy)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.monotonic() - start
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SystemExit(
            f"site.yml under Ansible's defaults failed: {done.stderr[-3000:]}"
        ) from None
    if done.returncode != 0 or result["failed"]:
        raise SystemExit(f"site.yml under Ansible's defaults failed on {result['failed']}")
    return elapsed, int(result["changed"])


def _profile(
    name: str, engine: str, nodes: int, reruns: int, work: Path, env: dict[str, str]
) -> dict[str, Any]:
    """From nothing to ready once, then `reruns` no-op re-runs: the re-run figures are medians.

    With `engine` "defaults" a re-run is site.yml with every role, not `up` (which would probe).
    """
    spec = work / f"{name}.yaml"
    spec.write_text(SPEC.format(name=name, nodes=nodes))
    deploy = work / name
    common = ["--deploy-dir", str(deploy), "--engine", engine]
    again: list[float] = []
    configure_again: list[float] = []
    changed = 0
    steps: list[tuple[str, float]] = []
    try:
        first, payload = _run(["up", str(spec), *common], env)
        if payload["rc"] != 0:
            raise SystemExit(f"{name}: up failed: {json.dumps(payload)[:3000]}")
        configure_first = _journal_seconds(deploy, "configure")
        for _ in range(reruns):
            if engine == "defaults":
                seconds, moved = _site_every_role(deploy, env)
                again.append(seconds)
                configure_again.append(seconds)
                changed += moved
                continue
            seconds, payload = _run(["up", str(spec), *common], env)
            if payload["rc"] != 0:
                raise SystemExit(f"{name}: re-run failed: {json.dumps(payload)[:3000]}")
            again.append(seconds)
            configure_again.append(_journal_seconds(deploy, "configure"))
            steps = _steps(deploy, seconds)
            nodes_out = payload.get("nodes", [])
            changed += sum(int(n.get("changed", 0)) for n in nodes_out)  # type: ignore[union-attr]
    finally:
        _run(["destroy", str(spec), "--yes", "--deploy-dir", str(deploy)], env)
    return {
        "up": first,
        "configure": configure_first,
        "rerun": statistics.median(again),
        "configure_rerun": statistics.median(configure_again),
        "rerun_changed": float(changed),
        "rerun_min": min(again),
        "rerun_max": max(again),
        "steps": steps,
    }


def _build_repository(env: dict[str, str]) -> None:
    """Build the fleet's stand-in APT repository before either profile runs.

    It stands for NVIDIA's package repository, which is there before any cluster; built inside
    the first profile's `up`, it would count against that profile alone. A one-node fleet of its
    own builds it and is removed again.
    """
    for args in (
        ["fleet", "up", "--cluster", "bench-repo", "--profile", "hgx-h100-8"],
        ["fleet", "down", "--cluster", "bench-repo"],
    ):
        _, payload = _run(args, env)
        if payload["rc"] != 0:
            failure = json.dumps(payload)[:2000]
            raise SystemExit(f"building the stand-in repository failed: {failure}")


def _load() -> str:
    """The 1-minute load average, to read timings of a shared machine against."""
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    """Run both profiles and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=16)
    parser.add_argument(
        "--only", choices=["tuned", "defaults"], help="run one profile (a quick check)"
    )
    parser.add_argument(
        "--reruns", type=int, default=3, help="no-op re-runs per profile (median reported)"
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the local fleet needs namespaces and mounts")
    loads = [_load()]
    keys = ("up", "configure", "rerun", "configure_rerun", "rerun_changed")
    nan: dict[str, Any] = {**dict.fromkeys((*keys, "rerun_min", "rerun_max"), NAN), "steps": []}
    with tempfile.TemporaryDirectory(prefix="gpuforge-bench-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "GPUFORGE_FLEET_DIR": str(work / "fleet")}
        _build_repository(env)
        tuned = defaults = nan
        if args.only != "defaults":
            tuned = _profile("bench-tuned", "auto", args.nodes, args.reruns, work, env)
            loads.append(_load())
        if args.only != "tuned":
            defaults = _profile("bench-defaults", "defaults", args.nodes, args.reruns, work, env)
            loads.append(_load())
    cores = os.cpu_count()
    print(f"### `gpuforge up`, {args.nodes} simulated nodes (hgx-h100-8), {cores}-core machine\n")
    print(f"1-minute load average at start and after each profile: {' / '.join(loads)}\n")
    print("| measure | gpuforge's way | Ansible defaults, every role | ratio |")
    print("|---|---|---|---|")
    rows = [
        ("from nothing to ready (s)", "up"),
        ("  of which configure (s)", "configure"),
        (f"no-op re-run, median of {args.reruns} (s; defaults: site.yml alone)", "rerun"),
        ("  fastest re-run (s)", "rerun_min"),
        ("  slowest re-run (s)", "rerun_max"),
        (
            "  of which configure, median (s; gpuforge: probe, no node configured)",
            "configure_rerun",
        ),
        ("changed tasks over the re-runs", "rerun_changed"),
    ]
    for label, key in rows:
        a, b = tuned[key], defaults[key]
        measured = a and not math.isnan(a) and not math.isnan(b)
        ratio = f"{b / a:.1f}x" if measured and key != "rerun_changed" else "-"
        print(f"| {label} | {a:.1f} | {b:.1f} | {ratio} |")
    if tuned["steps"]:
        print("\nWhere gpuforge's last no-op re-run spent its time (its journal):\n")
        print("| step | seconds |")
        print("|---|---|")
        for step, seconds in tuned["steps"]:
            print(f"| {step} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
