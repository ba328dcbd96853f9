#!/usr/bin/python3 -S
"""Simulated `ibv_devinfo` (ibverbs-utils): verbs device and port attributes, real layout."""

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
    """One `hca_id:` block."""
    efa = hca["kind"] == "efa"
    up = bool(hca["up"])
    ib = hca["link_layer"] == "InfiniBand"
    g = str(hca["guid"])
    lines = [
        f"hca_id:\t{hca['name']}",
        f"\ttransport:\t\t\t{'unspecified (4)' if efa else 'InfiniBand (0)'}",
        f"\tfw_ver:\t\t\t\t{hca['firmware']}",
        f"\tnode_guid:\t\t\t{rdma.guid(g, ':')}",
        f"\tsys_image_guid:\t\t\t{rdma.guid(g, ':')}",
        f"\tvendor_id:\t\t\t{'0x1d0f' if efa else '0x02c9'}",
        f"\tvendor_part_id:\t\t\t{hca['vendor_part_id']}",
        f"\thw_ver:\t\t\t\t{'0xEFA1' if efa else '0x0'}",
    ]
    if not efa:
        lines.append("\tboard_id:\t\t\tMT_0000000838")
    lines += [
        "\tphys_port_cnt:\t\t\t1",
        "\t\tport:\t1",
        f"\t\t\tstate:\t\t\t{'PORT_ACTIVE (4)' if up else 'PORT_DOWN (1)'}",
        "\t\t\tmax_mtu:\t\t4096 (5)",
        f"\t\t\tactive_mtu:\t\t{'4096 (5)' if up else '1024 (3)'}",
        f"\t\t\tsm_lid:\t\t\t{1 if ib and up else 0}",
        f"\t\t\tport_lid:\t\t{hca['lid'] if ib and up else 0}",
        f"\t\t\tport_lmc:\t\t{'0x01' if efa else '0x00'}",
        f"\t\t\tlink_layer:\t\t{hca['link_layer']}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    """`ibv_devinfo [-l] [-d DEVICE] [-v]`."""
    hcas = rdma.ports(simlib.load_hardware(), simlib.load_state())
    if not hcas:
        simlib.die("No IB devices found", 255, sys.stderr)
    args = list(argv)
    if "-l" in args or "--list" in args:
        print(f"{len(hcas)} HCA{'s' if len(hcas) != 1 else ''} found:")
        sys.stdout.write("".join(f"\t{h['name']}\n" for h in hcas))
        return
    for flag in ("-d", "--ib-dev"):
        if flag in args:
            name = args[args.index(flag) + 1] if args.index(flag) + 1 < len(args) else ""
            hcas = [h for h in hcas if h["name"] == name]
            if not hcas:
                simlib.die(f"IB device '{name}' wasn't found", 255, sys.stderr)
    sys.stdout.write("\n".join(block(h) for h in hcas) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
