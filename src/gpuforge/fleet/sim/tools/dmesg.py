#!/usr/bin/python3 -S
"""Simulated `dmesg`: prints the node's simulated kernel log (the real one shows the host's)."""

from __future__ import annotations

import os
import sys
import time

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


def render(rows: list[tuple[float, str]], boot: float, style: str) -> str:
    """Format kernel log rows as dmesg does: `[uptime]`, `-T` ctime or `--time-format iso`."""
    out = []
    for stamp, text in rows:
        if style == "ctime":
            out.append(f"[{time.asctime(time.localtime(stamp))}] {text}")
        elif style == "iso":
            micro = int(round((stamp % 1) * 1e6)) % 1000000
            base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp))
            out.append(f"{base},{micro:06d}+00:00 {text}")
        else:
            up = max(0.0, stamp - boot)
            out.append(f"[{int(up):5d}.{int(round((up % 1) * 1e6)) % 1000000:06d}] {text}")
    return "\n".join(out) + ("\n" if out else "")


def main(argv: list[str]) -> None:
    """Parse the few dmesg options tools use and print the log."""
    style = "uptime"
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-T", "--ctime"):
            style = "ctime"
        elif arg.startswith("--time-format"):
            value = arg.partition("=")[2] or (args.pop(0) if args else "")
            style = {"iso": "iso", "ctime": "ctime"}.get(value, "uptime")
        elif arg in ("-x", "--decode", "-k", "--kernel", "-L", "--color=never", "-P", "--nopager"):
            continue
        elif arg in ("-l", "--level"):
            args = args[1:]
        elif arg.startswith("--level="):
            continue
        else:
            simlib.die(
                f"dmesg: unrecognized option '{arg}'\nTry 'dmesg --help' for more information.",
                1,
                sys.stderr,
            )
    state = simlib.load_state()
    sys.stdout.write(render(simlib.read_klog(), float(state["boot_time"]), style))


if __name__ == "__main__":
    main(sys.argv[1:])
