#!/usr/bin/python3 -S
"""Simulated `modinfo` for the NVIDIA modules the stand-in driver package "built" with DKMS;
any other module name goes to the host's kmod (the node shares the host's kernel and modules).
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
    from gpuforge.fleet.sim.tools.simlib import Json
else:
    import simlib

KMOD = "/bin/kmod"
NVIDIA = ("nvidia", "nvidia_uvm", "nvidia_drm", "nvidia_modeset", "nvidia_peermem")
DEPENDS = {"nvidia_uvm": "nvidia", "nvidia_modeset": "nvidia", "nvidia_drm": "nvidia-modeset"}


def fields(module: str, driver: Json) -> list[tuple[str, str]]:
    """modinfo's (field, value) rows for one NVIDIA module of the installed driver."""
    version = driver["version"]
    kernel = os.uname().release
    license_ = "Dual MIT/GPL" if driver.get("flavor") == "open" else "NVIDIA"
    rows = [
        ("filename", f"/lib/modules/{kernel}/updates/dkms/{module.replace('_', '-')}.ko"),
        ("version", version),
        ("supported", "external"),
        ("license", license_),
    ]
    if module == "nvidia":
        rows += [
            ("firmware", f"nvidia/{version}/gsp_tu10x.bin"),
            ("firmware", f"nvidia/{version}/gsp_ga10x.bin"),
            ("alias", "char-major-195-*"),
            ("alias", "pci:v000010DEd*sv*sd*bc06sc80i00*"),
            ("alias", "pci:v000010DEd*sv*sd*bc03sc02i00*"),
            ("alias", "pci:v000010DEd*sv*sd*bc03sc00i00*"),
        ]
    rows += [
        ("depends", DEPENDS.get(module, "")),
        ("retpoline", "Y"),
        ("name", module.replace("-", "_")),
        ("vermagic", f"{kernel} SMP preempt mod_unload modversions "),
    ]
    return rows


def main(argv: list[str]) -> None:
    """`modinfo [-F field] MODULE...`: the NVIDIA modules from the state, others from kmod."""
    field, names, args = "", [], list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-F", "--field") and args:
            field = args.pop(0)
        elif arg.startswith("--field="):
            field = arg.partition("=")[2]
        elif arg.startswith("-"):
            continue
        else:
            names.append(arg.replace("-", "_"))
    if not names or not all(n in NVIDIA for n in names):
        if os.path.exists(KMOD):
            os.execv(KMOD, ["modinfo", *argv])
        simlib.die("modinfo: ERROR: missing module or filename.", 1, sys.stderr)
    driver = simlib.load_state().get("driver")
    status = 0
    for name in names:
        if not driver:
            sys.stderr.write(f"modinfo: ERROR: Module {name} not found.\n")
            status = 1
            continue
        for key, value in fields(name, driver):
            if not field:
                sys.stdout.write(f"{key + ':':<16}{value}\n")
            elif key == field:
                sys.stdout.write(f"{value}\n")
    raise SystemExit(status)


if __name__ == "__main__":
    main(sys.argv[1:])
