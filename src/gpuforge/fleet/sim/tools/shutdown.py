#!/usr/bin/python3 -S
"""Simulated `shutdown` and `reboot`: a reboot is the simulated power cycle (gpuforge-sim-reboot),
done at once whatever time is asked for; powering off is refused (the host stops a node with
`gpuforge fleet node-down`). Installed as both names; `reboot` is `shutdown -r now`.
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
    from gpuforge.fleet.sim.tools import sim_reboot, simlib
else:
    import sim_reboot
    import simlib

POWER_OFF = (
    "{}: a simulated node cannot power off; on the host, "
    "`gpuforge fleet node-down --cluster CLUSTER --name NODE` stops it"
)


def _when(spec: str) -> str:
    if spec in ("now", "0", "+0"):
        return ""
    minutes = int(spec[1:]) if spec.startswith("+") and spec[1:].isdigit() else 1
    at = time.strftime("%a %Y-%m-%d %H:%M:%S UTC", time.gmtime(time.time() + 60 * minutes))
    return f"Reboot scheduled for {at}, use 'shutdown -c' to cancel.\n"


def main(argv: list[str]) -> None:
    """`shutdown [-r|-h|-P|-c|-k] [TIME] [MESSAGE]`, `reboot [-f]` (by the name it runs as)."""
    program = os.path.basename(sys.argv[0]).removesuffix(".py")
    if program == "reboot":
        argv = ["-r", "now"]
    action, args = "poweroff", list(argv)
    while args and args[0].startswith("-") and not args[0].startswith("+"):
        flag = args.pop(0)
        if flag in ("-r", "--reboot"):
            action = "reboot"
        elif flag in ("-c",):
            return
        elif flag in ("-k",):
            action = "wall"
        elif flag in ("-h", "-P", "-H", "--halt", "--poweroff"):
            action = "poweroff"
    if action == "wall":
        return
    if action == "poweroff":
        simlib.die(POWER_OFF.format(program), 1, sys.stderr)
    sys.stderr.write(_when(args[0] if args else "+1"))
    sim_reboot.main([])


if __name__ == "__main__":
    main(sys.argv[1:])
