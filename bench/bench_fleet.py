"""Benchmark the local fleet: time of `fleet up --count 16` and memory per idle node.

Run as root: `.venv/bin/python bench/bench_fleet.py [--count 16] [--profile hgx-h100-8]`.
Prints a Markdown table (for BENCHMARKS.md). Uses a throw-away state dir and brings it down.
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
from typing import Any


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error`, beside `ok` and `exit_code`."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    if not isinstance(inner, dict):
        return inner
    return {"ok": body["ok"], "exit_code": body["exit_code"], **inner}


_DRIVER = (
    "import typer; from gpuforge.cli import fleet_cmds; app = typer.Typer(); "
    "fleet_cmds.register(app); app()"
)


def _cli(state: Path, *args: str) -> tuple[float, str]:
    """Run one `gpuforge fleet` command in a fresh interpreter; return seconds and stdout."""
    argv = [sys.executable, "-c", _DRIVER, "fleet", *args, "--state-dir", str(state), "--json"]
    start = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return time.monotonic() - start, done.stdout


def _rollup(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of a process in kB from smaps_rollup; (0, 0) when it is gone."""
    values = {"Pss:": 0, "Rss:": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, *rest = line.split()
            if key in values:
                values[key] = int(rest[0])
    except OSError:
        return 0, 0
    return values["Pss:"], values["Rss:"]


def _node_pids(pid1: int) -> list[int]:
    """Host pids of a node: every process of its pid namespace plus its launcher."""
    namespace = os.readlink(f"/proc/{pid1}/ns/pid")
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/pid") == namespace:
                    pids.append(int(entry))
            except OSError:
                continue
    launcher = int(Path(f"/proc/{pid1}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return [*pids, launcher]


def main() -> None:
    """Bring a fleet up, measure, bring it down, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--profile", default="hgx-h100-8")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_fleet needs root (the fleet uses namespaces and mounts)")
    with tempfile.TemporaryDirectory(prefix="gpuforge-bench-") as tmp:
        state = Path(tmp)
        # An empty cache of its own, so the first `up` really builds the stand-in repository.
        os.environ["GPUFORGE_FLEET_CACHE"] = str(state / "cache")
        first_s, _ = _cli(state, "up", "--cluster", "warm", "--profile", args.profile)
        _cli(state, "down")
        up_s, out = _cli(
            state, "up", "--cluster", "bench", "--profile", args.profile, "--count", str(args.count)
        )
        nodes = _payload(out)["nodes"]
        time.sleep(2)
        per_node = [[_rollup(pid) for pid in _node_pids(n["pid"])] for n in nodes]
        pss = [sum(p for p, _ in procs) / 1024 for procs in per_node]
        rss = [sum(r for _, r in procs) / 1024 for procs in per_node]
        procs = statistics.mean(len(p) for p in per_node)
        idem_s, _ = _cli(
            state, "up", "--cluster", "bench", "--profile", args.profile, "--count", str(args.count)
        )
        down_s, _ = _cli(state, "down")
    print(f"| local fleet, {args.count} x {args.profile} | value |")
    print("|---|---|")
    print(f"| first `fleet up --count 1` (builds the stand-in APT repo) | {first_s:.2f} s |")
    print(f"| `fleet up --count {args.count}` (new nodes, APT repo built) | {up_s:.2f} s |")
    print(f"| `fleet up` again (idempotent, nothing to do) | {idem_s:.2f} s |")
    print(f"| `fleet down` | {down_s:.2f} s |")
    print(f"| processes per idle node (launcher, init, sleeper, sshd) | {procs:.0f} |")
    print(f"| PSS per idle node, mean / max | {statistics.mean(pss):.1f} / {max(pss):.1f} MB |")
    print(f"| RSS per idle node, mean / max | {statistics.mean(rss):.1f} / {max(rss):.1f} MB |")


if __name__ == "__main__":
    main()
