#!/usr/bin/python3 -S
"""Simulated `ibstat` (infiniband-diags): CA and port state in the real tab-indented layout."""

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
    from gpuforge.fleet.sim.tools import rdma, simlib
else:
    import rdma
    import simlib


def block(hca: dict[str, object]) -> str:
    """One `CA '...'` block."""
    up = bool(hca["up"])
    ib = hca["link_layer"] == "InfiniBand"
    node = rdma.guid(str(hca["guid"]))
    port_guid = "0x" + str(hca["guid"])[:6] + "fffe" + str(hca["guid"])[10:16]
    lines = [
        f"CA '{hca['name']}'",
        f"\tCA type: {hca['ca_type']}",
        "\tNumber of ports: 1",
        f"\tFirmware version: {hca['firmware']}",
        "\tHardware version: 0",
        f"\tNode GUID: {node}",
        f"\tSystem image GUID: {node}",
        "\tPort 1:",
        f"\t\tState: {'Active' if up else 'Down'}",
        f"\t\tPhysical state: {'LinkUp' if up else 'Polling'}",
        f"\t\tRate: {hca['live_rate'] if up else 40}",
        f"\t\tBase lid: {hca['lid'] if ib and up else 0}",
        "\t\tLMC: 0",
        f"\t\tSM lid: {1 if ib and up else 0}",
        f"\t\tCapability mask: {'0xa651e848' if ib else '0x00010000'}",
        f"\t\tPort GUID: {port_guid}",
        f"\t\tLink layer: {hca['link_layer']}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    """`ibstat [-l] [CA [port]]`."""
    hcas = rdma.ports(simlib.load_hardware(), simlib.load_state())
    pid = os.getpid()
    if not hcas:
        simlib.die(
            f"ibwarn: [{pid}] umad_init: can't read ABI version from "
            "/sys/class/infiniband_mad/abi_version (No such file or directory): "
            f"is ib_umad module loaded?\nibpanic: [{pid}] main: can't init UMAD library: "
            "(No such file or directory)",
            255,
            sys.stderr,
        )
    if argv and argv[0] in ("-l", "--list_of_cas"):
        sys.stdout.write("".join(f"{h['name']}\n" for h in hcas))
        return
    names = [a for a in argv if not a.startswith("-")]
    if names:
        chosen = [h for h in hcas if h["name"] == names[0]]
        if not chosen:
            simlib.die(
                f"ibpanic: [{pid}] main: '{names[0]}' IB device can't be found", 255, sys.stderr
            )
        hcas = chosen
    sys.stdout.write("".join(block(h) for h in hcas))


if __name__ == "__main__":
    main(sys.argv[1:])
