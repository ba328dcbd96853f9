"""The `nvidia-smi -q` layout of drivers before R535, derived from the current one: sections
renamed, keys the old drivers lack dropped, the old temperature, ECC and power blocks (capture:
smi-q/a100sxm80-8gpu-full-q-drv525.60-raw-file.txt).
"""

from __future__ import annotations

# Paths (keys joined by "/", below the GPU line) the old drivers do not print, with their children.
DROP = {
    "Addressing Mode", "Platform Info", "Inforom BBX Object Flush", "GPU C2C Mode",
    "GPU Virtualization Mode/vGPU Heterogeneous Mode", "GPU Reset Status", "GPU Recovery Action",
    "FRU Part Number", "PCI/Base Classcode", "PCI/Sub Classcode", "Sparse Operation Mode",
    "Conf Compute Protected Memory Usage", "Utilization/JPEG", "Utilization/OFA",
    "ECC Errors/Volatile/SRAM Uncorrectable Parity",
    "ECC Errors/Aggregate/SRAM Uncorrectable Parity",
    "ECC Errors/Aggregate/SRAM Threshold Exceeded",
    "ECC Errors/Aggregate Uncorrectable SRAM Sources",
    "Temperature/GPU T.Limit Temp", "GPU Memory Power Readings", "Module Power Readings",
    "Fabric/CliqueId", "Fabric/ClusterUUID", "Fabric/Health", "Capabilities",
}  # fmt: skip
RENAME = {
    "Clocks Event Reasons": "Clocks Throttle Reasons",
    "ECC Mode": "Ecc Mode",
    "ECC Errors/Volatile/SRAM Uncorrectable SEC-DED": "SRAM Uncorrectable",
    "ECC Errors/Aggregate/SRAM Uncorrectable SEC-DED": "SRAM Uncorrectable",
    "Temperature/GPU Shutdown T.Limit Temp": "GPU Shutdown Temp",
    "Temperature/GPU Slowdown T.Limit Temp": "GPU Slowdown Temp",
    "Temperature/GPU Max Operating T.Limit Temp": "GPU Max Operating Temp",
    "Temperature/Memory Max Operating T.Limit Temp": "Memory Max Operating Temp",
    "GPU Power Readings": "Power Readings",
    "GPU Power Readings/Current Power Limit": "Power Limit",
    "GPU Power Readings/Requested Power Limit": "Enforced Power Limit",
}
# Absolute limits the old drivers print instead of margins (the A100 capture).
OLD_TEMPERATURES = {
    "GPU Shutdown Temp": "92 C",
    "GPU Slowdown Temp": "89 C",
    "GPU Max Operating Temp": "85 C",
    "Memory Max Operating Temp": "95 C",
}


def _split(line: str) -> tuple[int, str, str]:
    body = line.lstrip(" ")
    indent = (len(line) - len(body)) // 4
    key, sep, value = body.partition(":")
    return indent, key.rstrip() if sep else body.rstrip(), value.strip() if sep else ""


def legacy(lines: list[str]) -> list[str]:
    """Rewrite one GPU's -q lines (below its `GPU ...` line) in the pre-R535 layout."""
    out: list[str] = []
    stack: list[str] = []
    dropping = -1
    module = next((ln.split(":", 1)[1].strip() for ln in lines if "Module Id" in ln), "N/A")
    for line in lines:
        indent, key, value = _split(line)
        stack = [*stack[: max(0, indent - 1)], key]
        path = "/".join(stack)
        if dropping >= 0 and indent > dropping:
            continue
        dropping = indent if path in DROP else -1
        if dropping >= 0:
            continue
        new = RENAME.get(path, key)
        if new in OLD_TEMPERATURES:
            value = OLD_TEMPERATURES[new]
        pad = " " * (4 * indent)
        if path == "GPU Power Readings":
            out.append(f"{pad}{new}")
            out.append(f"{pad}    {'Power Management':<34}: Supported")
            continue
        text = f"{pad}{new:<{42 - 4 * indent}}: {value}" if ":" in line else f"{pad}{new}"
        out.append(text)
        if path == "GPU Part Number":
            out.append(f"{pad}{'Module ID':<38}: {module}")
    return out
