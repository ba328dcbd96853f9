#!/usr/bin/python3 -S
"""Simulated `lspci`: the node's GPUs, NVSwitches and RDMA adapters (the host's would show its own).

Options: -n, -nn, -D, -k, -v/-vv, -d [vendor]:[device][:class], -s [[domain:]bus:]slot[.func].
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
    from gpuforge.fleet.sim.tools import simlib, simpci
    from gpuforge.fleet.sim.tools.simpci import Json
else:
    import simlib
    import simpci

USAGE = "lspci: Invalid option -- {}\nUsage: lspci [<switches>]"


def _matches_id(dev: Json, spec: str) -> bool:
    parts = [*spec.split(":"), "", ""][:3]
    vendor, device = str(dev["id"]).split(":")
    wanted = (vendor, device, str(dev["cls"]))
    return all(not p or p.lower() == w for p, w in zip(parts, wanted, strict=True))


def _matches_slot(dev: Json, spec: str) -> bool:
    slot = str(dev["slot"])
    return slot.endswith(spec.lower()) if spec.count(":") else slot[5:].endswith(spec.lower())


def line(dev: Json, numeric: int, domain: bool) -> str:
    """One device line: names (default), `-n` ids only, `-nn` both."""
    slot = dev["slot"] if domain else dev["slot"][5:]
    rev = f" (rev {dev['rev']})"
    cls = simpci.CLASSES[dev["cls"]]
    if numeric == 1:
        return f"{slot} {dev['cls']}: {dev['id']}{rev}"
    if numeric >= 2:
        return f"{slot} {cls} [{dev['cls']}]: {simpci.name(dev['id'])} [{dev['id']}]{rev}"
    return f"{slot} {cls}: {simpci.name(dev['id'])}{rev}"


def details(dev: Json, verbose: bool) -> str:
    """The indented lines `-k` and `-v` add under a device."""
    out = []
    if dev.get("sub"):
        vendor, sub = dev["sub"].split(":")
        out.append(f"\tSubsystem: {simpci.VENDORS.get(vendor, vendor)} Device {sub}")
    if verbose:
        out.append(f"\tFlags: bus master, fast devsel, latency 0, NUMA node {dev['numa']}")
    if dev.get("driver"):
        out.append(f"\tKernel driver in use: {dev['driver']}")
    if dev.get("modules"):
        out.append(f"\tKernel modules: {dev['modules']}")
    return "".join(f"{o}\n" for o in out)


def main(argv: list[str]) -> None:
    """Parse lspci's common options and print the matching devices."""
    numeric, domain, kernel, verbose = 0, False, False, False
    id_spec, slot_spec = "", ""
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-d", "-s") and not args:
            simlib.die(f"lspci: option requires an argument -- '{arg[1]}'", 2, sys.stderr)
        if arg == "-d":
            id_spec = args.pop(0)
        elif arg == "-s":
            slot_spec = args.pop(0)
        elif arg.startswith("-") and len(arg) > 1 and set(arg[1:]) <= set("nDkvqm"):
            numeric += arg.count("n")
            domain = domain or "D" in arg
            kernel = kernel or "k" in arg
            verbose = verbose or "v" in arg
        else:
            simlib.die(USAGE.format(arg.lstrip("-")[:1] or arg), 2, sys.stderr)
    chosen = [
        d
        for d in simpci.devices(simlib.load_hardware(), simlib.load_state())
        if (not id_spec or _matches_id(d, id_spec))
        and (not slot_spec or _matches_slot(d, slot_spec))
    ]
    blocks = []
    for dev in chosen:
        text = line(dev, numeric, domain) + "\n"
        if kernel or verbose:
            text += details(dev, verbose) + ("\n" if verbose else "")
        blocks.append(text)
    sys.stdout.write("".join(blocks))


if __name__ == "__main__":
    main(sys.argv[1:])
