"""`nvidia-smi -q -x`: the -q report in NVIDIA's XML schema (nvsmi_device_v12.dtd element names).

The XML is built from the text report's key tree, so both always hold the same facts. Element
names follow the DTD shipped with the driver (/usr/share/doc/nvidia-utils/nvsmi_device_v12.dtd);
a key with no entry below falls back to its name in snake_case.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

# Text key path below the GPU (keys joined by "/"), or a bare key, -> XML element name.
TAGS = {
    "MIG Mode/Current": "current_mig",
    "MIG Mode/Pending": "pending_mig",
    "Driver Model/Current": "current_dm",
    "Driver Model/Pending": "pending_dm",
    "Serial Number": "serial",
    "GPU UUID": "uuid",
    "MultiGPU Board": "multigpu_board",
    "FRU Part Number": "gpu_fru_part_number",
    "Platform Info": "platformInfo",
    "Inforom Version": "inforom_version",
    "Inforom Version/Image Version": "img_version",
    "Inforom Version/Power Management Object": "pwr_object",
    "GPU Operation Mode/Current": "current_gom",
    "GPU Operation Mode/Pending": "pending_gom",
    "PCI/Bus": "pci_bus",
    "PCI/Device": "pci_device",
    "PCI/Domain": "pci_domain",
    "PCI/Base Classcode": "pci_base_class",
    "PCI/Sub Classcode": "pci_sub_class",
    "PCI/Device Id": "pci_device_id",
    "PCI/Bus Id": "pci_bus_id",
    "PCI/Sub System Id": "pci_sub_system_id",
    "PCI/GPU Link Info": "pci_gpu_link_info",
    "PCI/GPU Link Info/PCIe Generation": "pcie_gen",
    "PCI/GPU Link Info/PCIe Generation/Max": "max_link_gen",
    "PCI/GPU Link Info/PCIe Generation/Current": "current_link_gen",
    "PCI/GPU Link Info/PCIe Generation/Device Current": "device_current_link_gen",
    "PCI/GPU Link Info/PCIe Generation/Device Max": "max_device_link_gen",
    "PCI/GPU Link Info/PCIe Generation/Host Max": "max_host_link_gen",
    "PCI/GPU Link Info/Link Width": "link_widths",
    "PCI/GPU Link Info/Link Width/Max": "max_link_width",
    "PCI/GPU Link Info/Link Width/Current": "current_link_width",
    "PCI/Bridge Chip": "pci_bridge_chip",
    "PCI/Bridge Chip/Type": "bridge_chip_type",
    "PCI/Bridge Chip/Firmware": "bridge_chip_fw",
    "PCI/Replays Since Reset": "replay_counter",
    "PCI/Replay Number Rollovers": "replay_rollover_counter",
    "PCI/Tx Throughput": "tx_util",
    "PCI/Rx Throughput": "rx_util",
    "Conf Compute Protected Memory Usage": "cc_protected_memory_usage",
    "Utilization/Gpu": "gpu_util",
    "Utilization/GPU": "gpu_util",
    "Utilization/Memory": "memory_util",
    "Utilization/Encoder": "encoder_util",
    "Utilization/Decoder": "decoder_util",
    "Utilization/JPEG": "jpeg_util",
    "Utilization/OFA": "ofa_util",
    "Active Sessions": "session_count",
    "ECC Mode/Current": "current_ecc",
    "ECC Mode/Pending": "pending_ecc",
    "SRAM Uncorrectable SEC-DED": "sram_uncorrectable_secded",
    "Remapped Rows/Correctable Error": "remapped_row_corr",
    "Remapped Rows/Uncorrectable Error": "remapped_row_unc",
    "Remapped Rows/Pending": "remapped_row_pending",
    "Remapped Rows/Remapping Failure Occurred": "remapped_row_failure",
    "Remapped Rows/Bank Remap Availability Histogram": "row_remapper_histogram",
    "Temperature/GPU Current Temp": "gpu_temp",
    "Temperature/GPU T.Limit Temp": "gpu_temp_tlimit",
    "Temperature/GPU Shutdown T.Limit Temp": "gpu_temp_max_tlimit_threshold",
    "Temperature/GPU Slowdown T.Limit Temp": "gpu_temp_slow_tlimit_threshold",
    "Temperature/GPU Max Operating T.Limit Temp": "gpu_temp_max_gpu_tlimit_threshold",
    "Temperature/GPU Shutdown Temp": "gpu_temp_max_threshold",
    "Temperature/GPU Slowdown Temp": "gpu_temp_slow_threshold",
    "Temperature/GPU Max Operating Temp": "gpu_temp_max_gpu_threshold",
    "Temperature/Memory Current Temp": "memory_temp",
    "Temperature/Memory Max Operating T.Limit Temp": "gpu_temp_max_mem_tlimit_threshold",
    "Temperature/Memory Max Operating Temp": "gpu_temp_max_mem_threshold",
    "GPU Power Readings/Instantaneous Power Draw": "instant_power_draw",
    "GPU Memory Power Readings/Instantaneous Power Draw": "instant_power_draw",
    "Module Power Readings/Instantaneous Power Draw": "instant_power_draw",
    "Graphics": "graphics_clock",
    "SM": "sm_clock",
    "Memory": "mem_clock",
    "Video": "video_clock",
    "Voltage/Graphics": "graphics_volt",
    "Fabric/CliqueId": "cliqueId",
    "Fabric/ClusterUUID": "clusterUuid",
}
# `Clocks Event Reasons` (R535+) and `Clocks Throttle Reasons` (before): section -> the prefix of
# its keys' elements, and the keys whose element is not the snake_case of the text key.
REASON_PREFIXES = {
    "Clocks Event Reasons": "clocks_event_reason_",
    "Clocks Throttle Reasons": "clocks_throttle_reason_",
}
REASON_NAMES = {"Idle": "gpu_idle", "Display Clock Setting": "display_clocks_setting"}
CLOCK_SECTIONS = (
    "Clocks", "Applications Clocks", "Default Applications Clocks", "Deferred Clocks",
    "Max Clocks", "Max Customer Boost Clocks",
)  # fmt: skip


def tag(path: list[str]) -> str:
    """The element name of the key at `path` (its section keys first)."""
    joined = "/".join(path)
    key = path[-1]
    if joined in TAGS:
        return TAGS[joined]
    if len(path) > 1 and path[0] in REASON_PREFIXES:
        return REASON_PREFIXES[path[0]] + REASON_NAMES.get(key, snake(key))
    if len(path) > 1 and path[0] in CLOCK_SECTIONS and key in TAGS:
        return TAGS[key]
    if len(path) > 1 and path[0] == "Remapped Rows" and path[1].startswith("Bank Remap"):
        return f"row_remapper_histogram_{key.lower()}"
    if key in ("Active Sessions",):
        return TAGS[key]
    if key.startswith("SRAM") and key in TAGS:
        return TAGS[key]
    return snake(key)


def snake(key: str) -> str:
    """A text key in snake_case, the DTD's spelling of most keys (`Product Name` -> product_name)."""
    return re.sub(r"[^a-z0-9]+", "_", key.strip().lower()).strip("_")


def _lines_to_xml(lines: list[str], depth: int) -> list[str]:
    out: list[str] = []
    stack: list[tuple[int, str]] = []
    path: list[str] = []
    for line in lines:
        body = line.lstrip(" ")
        level = (len(line) - len(body)) // 4
        key, sep, value = body.partition(" : ") if " : " in body else body.partition(":")
        key = key.strip()
        while stack and stack[-1][0] >= level:
            _, name = stack.pop()
            path.pop()
            out.append("\t" * (depth + len(stack)) + f"</{name}>")
        path.append(key)
        name = tag(path)
        pad = "\t" * (depth + len(stack))
        if sep and value.strip():
            out.append(f"{pad}<{name}>{escape(value.strip())}</{name}>")
            path.pop()
        else:
            out.append(f"{pad}<{name}>")
            stack.append((level, name))
    while stack:
        _, name = stack.pop()
        out.append("\t" * (depth + len(stack)) + f"</{name}>")
    return out


def _mig_devices(lines: list[str]) -> list[str]:
    """The text lists `MIG Device` blocks one after another; the DTD holds them in <mig_devices>."""
    opens = [n for n, line in enumerate(lines) if line == "\t\t<mig_device>"]
    if not opens:
        return lines
    last = max(n for n, line in enumerate(lines) if line == "\t\t</mig_device>")
    inner = ["\t" + line for line in lines[opens[0] : last + 1]]
    return [
        *lines[: opens[0]],
        "\t\t<mig_devices>",
        *inner,
        "\t\t</mig_devices>",
        *lines[last + 1 :],
    ]


def document(report: str) -> str:
    """Turn the text of `nvidia-smi -q` into the XML document `nvidia-smi -q -x` prints."""
    out = [
        '<?xml version="1.0" ?>',
        '<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">',
        "<nvidia_smi_log>",
    ]
    gpu_lines: list[str] = []
    bus = ""

    def flush() -> None:
        if bus:
            out.append(f"\t<gpu id={quoteattr(bus)}>")
            out.extend(_mig_devices(_lines_to_xml(gpu_lines, 2)))
            out.append("\t</gpu>")

    for line in report.splitlines():
        if not line.strip() or line.startswith("="):
            continue
        if line.startswith("GPU "):
            flush()
            bus, gpu_lines = line[4:].strip(), []
        elif line.startswith(" "):
            gpu_lines.append(line[4:])
        else:
            key, _, value = line.partition(":")
            out.append(f"\t<{tag([key])}>{escape(value.strip())}</{tag([key])}>")
    flush()
    out.append("</nvidia_smi_log>")
    return "\n".join(out) + "\n"
