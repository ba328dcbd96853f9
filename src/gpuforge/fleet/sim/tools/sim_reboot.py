#!/usr/bin/python3 -S
"""`gpuforge-sim-reboot`: a simulated power cycle of the node's GPUs.

Like a real reboot: persistence, compute mode, power limits and clocks return to defaults,
MIG instances vanish, MIG mode survives only on Ampere, daemons stop, the kernel log restarts,
transient GPU errors (Xid, ECC) clear
and the boot id (/proc/sys/kernel/random/boot_id) changes. Hardware faults stay until healed.
"""

from __future__ import annotations

import os
import signal
import sys
import time

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False

sys.path[:0] = [
    os.path.join(os.environ.get("GPUFORGE_SIM_ROOT", "/"), "usr/lib/gpuforge-sim"),
    os.path.dirname(os.path.abspath(__file__)),
]

if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import simkernel, simlib
else:
    import simkernel
    import simlib

DAEMONS = ("nvidia-persistenced", "nv-fabricmanager", "nv-hostengine")
TRANSIENT = ("xid", "ecc-uncorrectable")


def _stop(name: str) -> None:
    path = os.path.join(simlib.STATE_DIR, f"{name}.pid")
    if simlib.daemon_alive(name):
        with open(path, encoding="utf-8") as f:
            os.kill(int(f.read().strip()), signal.SIGTERM)
    if os.path.exists(path):
        os.unlink(path)


def main(argv: list[str]) -> None:
    """Reset the state to power-on values and start a new kernel log (no arguments)."""
    del argv
    hw = simlib.load_hardware()
    for name in DAEMONS:
        _stop(name)
    with simlib.edit_state() as state:
        for phys, gs in enumerate(state["gpus"]):
            gpu = hw["gpus"][phys]
            keep_mig = gpu["architecture"] == "Ampere" and bool(gs["mig_pending"])
            gs.update(
                persistence=False,
                compute_mode="Default",
                power_limit_w=gpu["power_default_w"],
                locked_clocks=None,
                app_clocks=None,
                mig=keep_mig,
                mig_pending=keep_mig,
                gis=[],
            )
        state["faults"] = [f for f in state.get("faults", []) if f["name"] not in TRANSIENT]
        state["boot_time"] = time.time()
        state["boot_count"] = int(state.get("boot_count", 1)) + 1
        driver = state.get("driver")
    with open(simlib.KMSG, "w", encoding="utf-8"):
        pass
    simlib.klog(f"Linux version 6.1.0-gpuforge-sim (gpuforge simulated node {hw['node']})")
    if driver:
        simlib.klog(simlib.module_line(driver))
    simkernel.sync(new_boot=True)
    print("Simulated reboot done.")


if __name__ == "__main__":
    main(sys.argv[1:])
