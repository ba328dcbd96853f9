"""The `nvidia-smi -q` layout of drivers from R590, derived from the current one.

Every change below is in both R590+ captures (smi-q/h100-mig-full-q-drv590.txt, an H100 in a VM,
and smi-q/rtx2080super-full-q-drv610.txt): `Display Attached`, `GPU PDI`, the new Platform Info
keys, `Clocks Event Reasons Counters`, `DRAM Encryption Mode`, average and instantaneous power
draw, `Power Smoothing`, `Workload Power Profiles`, `EDPp Multiplier`, the Fabric health keys
and `Utilization/GPU`; neither prints `GPU Reset Status` or `Voltage`. The H100 capture adds the
ECC repair keys. Which of them came with R575 or R580 no capture here shows, so R580 keeps the
R565 layout.
"""

from __future__ import annotations

FIRST_BRANCH = 590

DROP = {
    "Platform Info/RACK Serial Number", "Platform Info/Chassis Physical Slot Number",
    "Platform Info/Compute Slot Index", "Platform Info/Node Index", "GPU Reset Status",
    "Voltage",
}  # fmt: skip
RENAME = {"Utilization/Gpu": "GPU"}
POWER_SECTIONS = ("GPU Power Readings", "GPU Memory Power Readings", "Module Power Readings")
# Path of a line -> (indent, key, value) lines the new drivers print before it.
BEFORE = {
    "Display Active": [(1, "Display Attached", "No")],
    "Platform Info/Peer Type": [
        (2, "Chassis Serial Number", "N/A"),
        (2, "Slot Number", "N/A"),
        (2, "Tray Index", "N/A"),
        (2, "Host ID", "N/A"),
    ],
    "ECC Mode": [(1, "DRAM Encryption Mode", ""), (2, "Current", "N/A"), (2, "Pending", "N/A")],
    "Fabric/Health/Bandwidth": [(3, "Summary", "N/A")],
}
# Path of a line -> lines printed after it (and after the lines below it, for a section).
AFTER = {
    "Platform Info/Module Id": [(2, "GPU Fabric GUID", "N/A")],
    "Clocks Event Reasons": [
        (1, "Clocks Event Reasons Counters", ""),
        (2, "SW Power Capping", "0 us"),
        (2, "Sync Boost", "0 us"),
        (2, "SW Thermal Slowdown", "0 us"),
        (2, "HW Thermal Slowdown", "0 us"),
        (2, "HW Power Braking", "0 us"),
    ],
    "ECC Errors": [
        (2, "Channel Repair Pending", "No"),
        (2, "TPC Repair Pending", "No"),
        (2, "Unrepairable Memory", "No"),
    ],
    "Module Power Readings": [
        (1, "Power Smoothing", "N/A"),
        (1, "Workload Power Profiles", ""),
        (2, "Requested Profiles", "N/A"),
        (2, "Enforced Profiles", "N/A"),
        (1, "EDPp Multiplier", "100.00%"),
    ],
    "Fabric/Health": [
        (3, "Route Recovery in progress", "N/A"),
        (3, "Route Unhealthy", "N/A"),
        (3, "Access Timeout Recovery", "N/A"),
        (3, "Incorrect Configuration", "N/A"),
    ],
}


def current(driver: str) -> bool:
    """True for drivers of branch R590 or later."""
    return int(driver.split(".")[0]) >= FIRST_BRANCH


def _line(indent: int, key: str, value: str) -> str:
    pad = "    " * indent
    return f"{pad}{key:<{42 - 4 * indent}}: {value}" if value else f"{pad}{key}"


def _split(line: str) -> tuple[int, str, str]:
    body = line.lstrip(" ")
    indent = (len(line) - len(body)) // 4
    key, sep, value = body.partition(":")
    return indent, key.strip() if sep else body.strip(), value.strip() if sep else ""


def _pdi(uuid: str) -> str:
    """A stable 64-bit platform device id from the GPU's UUID (the real one is per board)."""
    digits = "".join(c for c in uuid if c in "0123456789abcdef")
    return "0x" + (digits[-16:] or "0").rjust(16, "0")


def r590(lines: list[str]) -> list[str]:
    """Rewrite one GPU's -q lines (below its `GPU ...` line) in the R590+ layout."""
    out: list[str] = []
    stack: list[str] = []
    pending: list[tuple[int, list[tuple[int, str, str]]]] = []
    dropping = -1
    for line in lines:
        indent, key, value = _split(line)
        stack = [*stack[: max(0, indent - 1)], key]
        path = "/".join(stack)
        while pending and indent <= pending[-1][0]:
            out += [_line(*row) for row in pending.pop()[1]]
        if dropping >= 0 and indent > dropping:
            continue
        dropping = indent if path in DROP else -1
        if dropping >= 0:
            continue
        out += [_line(*row) for row in BEFORE.get(path, [])]
        if len(stack) == 2 and stack[0] in POWER_SECTIONS and key == "Power Draw":
            out += [_line(indent, "Average Power Draw", value)]
            out += [_line(indent, "Instantaneous Power Draw", value)]
        else:
            out.append(_line(indent, RENAME.get(path, key), value) if ":" in line else line)
        if key == "GPU UUID":
            out.append(_line(indent, "GPU PDI", _pdi(value)))
        if path in AFTER:
            pending.append((indent, AFTER[path]))
    while pending:
        out += [_line(*row) for row in pending.pop()[1]]
    return out
