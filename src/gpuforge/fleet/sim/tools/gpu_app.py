#!/usr/bin/python3 -S
"""A compute process on a simulated GPU: `gpu_app.py GPU [MEMORY_MIB] [UTIL_PCT]` runs until killed.

It registers itself under var/lib/gpuforge-sim/gpu-apps/PID.json (a sticky, world-writable
folder, as /tmp is), so `nvidia-smi --query-compute-apps` lists it with its argv[0] as the
process name, its memory and its GPU's utilisation; `gpu_app.py --stop` ends every one.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

sys.path[:0] = [
    os.path.join(os.environ.get("GPUFORGE_SIM_ROOT", "/"), "usr/lib/gpuforge-sim"),
    os.path.dirname(os.path.abspath(__file__)),
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import simlib
else:
    import simlib


def _stop_all() -> None:
    """SIGTERM every registered process; return once each has left its registration."""
    folder = simlib.gpu_apps_dir()
    for app in simlib.gpu_apps():
        try:
            os.kill(int(app["pid"]), signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            continue
        path = os.path.join(folder, f"{app['pid']}.json")
        deadline = time.monotonic() + 10
        while os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.02)


def _leave(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    sys.exit(0)


def main(argv: list[str]) -> None:
    """Register a process on GPU argv[0] and wait for a signal; `--stop` ends every one."""
    if argv[:1] == ["--stop"]:
        _stop_all()
        return
    if not argv or not argv[0].isdigit():
        simlib.die("usage: gpu_app.py GPU [MEMORY_MIB] [UTIL_PCT] | --stop\n", 2)
    folder = simlib.gpu_apps_dir()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{os.getpid()}.json")
    record = {
        "pid": os.getpid(),
        "gpu": int(argv[0]),
        "memory_mib": int(argv[1]) if len(argv) > 1 else 1024,
        "util": int(argv[2]) if len(argv) > 2 else 100,
    }
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(record, f)
    os.replace(path + ".tmp", path)
    signal.signal(signal.SIGTERM, lambda *_: _leave(path))
    signal.signal(signal.SIGINT, lambda *_: _leave(path))
    while True:
        signal.pause()


if __name__ == "__main__":
    main(sys.argv[1:])
