#!/usr/bin/python3 -S
"""Simulated NVIDIA daemons: `daemon.py NAME` records NAME's pid, then sleeps as the service.

nvidia-persistenced also enables persistence mode on every GPU, as the real daemon does.
"""

from __future__ import annotations

import os
import sys

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False

sys.path[:0] = [
    os.path.join(os.environ.get("GPUFORGE_SIM_ROOT", "/"), "usr/lib/gpuforge-sim"),
    os.path.dirname(os.path.abspath(__file__)),
]

if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import simlib
else:
    import simlib

KNOWN = ("nvidia-persistenced", "nv-fabricmanager", "nv-hostengine")


def main(argv: list[str]) -> None:
    """Start daemon argv[0] (or the name this script was installed under)."""
    name = argv[0] if argv and argv[0] in KNOWN else os.path.basename(sys.argv[0])
    if name not in KNOWN:
        simlib.die(f"unknown daemon {name}", 2, sys.stderr)
    if name == "nvidia-persistenced":
        with simlib.edit_state() as state:
            for gs in state["gpus"]:
                gs["persistence"] = True
    simlib.run_daemon(name)


if __name__ == "__main__":
    main(sys.argv[1:])
