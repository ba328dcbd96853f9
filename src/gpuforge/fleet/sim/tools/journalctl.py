#!/usr/bin/python3 -S
"""Simulated `journalctl`: the output of the units the daemonless `systemctl` runs (it keeps each
unit's output in /var/log/journal/UNIT.log), and `-k` the simulated kernel log.
"""

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

JOURNAL = os.path.join(simlib.ROOT, "var/log/journal")
VALUE_OPTIONS = ("-u", "--unit", "-n", "--lines", "-o", "--output", "-S", "--since", "-p")


def _unit_file(unit: str) -> str:
    return unit if "." in unit else f"{unit}.service"


def entries(units: list[str], kernel: bool) -> list[tuple[float, str, str]]:
    """(time, identifier, message) rows of the chosen units (all when none), oldest first."""
    rows: list[tuple[float, str, str]] = []
    if kernel:
        rows += [(stamp, "kernel", text) for stamp, text in simlib.read_klog()]
    names = [_unit_file(u) for u in units]
    if not names and not kernel and os.path.isdir(JOURNAL):
        names = sorted(n[: -len(".log")] for n in os.listdir(JOURNAL) if n.endswith(".log"))
    for name in names:
        path = os.path.join(JOURNAL, f"{name}.log")
        if not os.path.exists(path):
            continue
        stamp = os.path.getmtime(path)
        ident = name.rsplit(".", 1)[0]
        with open(path, encoding="utf-8", errors="replace") as f:
            rows += [(stamp, ident, line.rstrip("\n")) for line in f if line.strip()]
    return sorted(rows, key=lambda r: r[0])


def main(argv: list[str]) -> None:
    """`journalctl [-u UNIT]... [-k] [-n N] [-o cat|short] [--no-pager] [-b] [-q]`."""
    units: list[str] = []
    kernel, quiet, lines, output = False, False, 0, "short"
    args = list(argv)
    while args:
        arg = args.pop(0)
        key, eq, inline = arg.partition("=")
        if key in VALUE_OPTIONS or (len(arg) > 2 and arg[:2] in ("-u", "-n", "-o") and not eq):
            value = inline if eq else (arg[2:] if len(arg) > 2 else (args.pop(0) if args else ""))
            key = key[:2] if not eq and len(arg) > 2 else key
            if key in ("-u", "--unit"):
                units.append(value)
            elif key in ("-n", "--lines"):
                lines = int(value) if value.isdigit() else 10
            elif key in ("-o", "--output"):
                output = value
        elif arg in ("-k", "--dmesg"):
            kernel = True
        elif arg in ("-q", "--quiet"):
            quiet = True
    rows = entries(units, kernel)
    if lines:
        rows = rows[-lines:]
    if not rows:
        if not quiet:
            sys.stdout.write("-- No entries --\n")
        return
    host = simlib.hostname()
    for stamp, ident, message in rows:
        if output == "cat":
            sys.stdout.write(f"{message}\n")
        else:
            when = time.strftime("%b %d %H:%M:%S", time.localtime(stamp))
            sys.stdout.write(f"{when} {host} {ident}: {message}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
