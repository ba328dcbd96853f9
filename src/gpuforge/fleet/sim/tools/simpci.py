"""The node's PCI devices as `lspci` sees them: GPUs, NVSwitches and RDMA adapters.

Ids and names from the PCI ID Repository (pci-ids.ucw.cz): NVIDIA 10de, Mellanox 15b3, Amazon
1d0f; NVSwitch counts per HGX baseboard from NVIDIA's DGX user guides (A100: 6, H100/H200: 4,
B200: 2).
"""

from __future__ import annotations

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Json = dict[str, Any]

VENDORS = {
    "10de": "NVIDIA Corporation",
    "15b3": "Mellanox Technologies",
    "1d0f": "Amazon.com, Inc.",
    "8086": "Intel Corporation",
}
CLASSES = {
    "0302": "3D controller",
    "0680": "Bridge",
    "0207": "Infiniband controller",
    "0200": "Ethernet controller",
    "0880": "System peripheral",
}
DEVICES = {
    "10de:20b0": "GA100 [A100 SXM4 40GB]",
    "10de:20b2": "GA100 [A100 SXM4 80GB]",
    "10de:20b5": "GA100 [A100 PCIe 80GB]",
    "10de:2330": "GH100 [H100 SXM5 80GB]",
    "10de:2331": "GH100 [H100 PCIe]",
    "10de:2335": "GH100 [H200 SXM 141GB]",
    "10de:1af1": "GA100 [A100 NVSwitch]",
    "10de:22a3": "GH100 [H100 NVSwitch]",
    "15b3:101b": "MT28908 Family [ConnectX-6]",
    "15b3:1021": "MT2910 Family [ConnectX-7]",
    "1d0f:efa1": "Elastic Fabric Adapter (EFA)",
    "1d0f:efa2": "Elastic Fabric Adapter (EFA)",
    "8086:09a2": "Ice Lake Memory Map/VT-d",
}
# GPU architecture -> (NVSwitch device id, switches on an 8-GPU baseboard).
NVSWITCH = {"Ampere": ("1af1", 6), "Hopper": ("22a3", 4), "Blackwell": ("22a3", 2)}
GPU_MODULES = "nvidiafb, nouveau, nvidia_drm, nvidia"


def _slot(bus: str) -> str:
    """`00000000:19:00.0` (nvidia-smi) -> `0000:19:00.0` (lspci -D)."""
    domain, _, rest = bus.partition(":")
    return f"{int(domain, 16):04x}:{rest.lower()}"


def _hca_slot(hca: Json, hw: Json, index: int) -> str:
    pair = hca.get("nic_pair")
    if pair is not None and pair < len(hw["gpus"]):
        gpu = _slot(hw["gpus"][pair]["bus_id"])
        return f"{gpu[:5]}{int(gpu[5:7], 16) - 1:02x}{gpu[7:]}"
    return f"0000:{0xC0 + index:02x}:00.0"


def devices(hw: Json, state: Json) -> list[Json]:
    """Every PCI function the node shows, sorted by slot, each with ids, names and drivers."""
    driver = state.get("driver")
    found: list[Json] = [
        {"slot": "0000:00:00.0", "cls": "0880", "id": "8086:09a2", "rev": "04", "numa": 0}
    ]
    arch = ""
    for gpu in hw["gpus"]:
        arch = gpu["architecture"]
        dev = gpu["pci_device_id"][2:6].lower()
        found.append(
            {
                "slot": _slot(gpu["bus_id"]),
                "cls": "0302",
                "id": f"10de:{dev}",
                "rev": "a1",
                "sub": "10de:" + gpu["pci_sub_device_id"][2:6].lower(),
                "driver": "nvidia" if driver else "",
                "modules": GPU_MODULES,
                "numa": gpu["numa"],
            }
        )
    if hw.get("nvswitch") and arch in NVSWITCH:
        dev, count = NVSWITCH[arch]
        for i in range(count):
            found.append(
                {"slot": f"0000:{0xE4 + i:02x}:00.0", "cls": "0680", "id": f"10de:{dev}",
                 "rev": "a1", "sub": f"10de:{0x1796:04x}", "numa": i * 2 // count}
            )  # fmt: skip
    for index, hca in enumerate(hw["hcas"]):
        efa = hca["kind"] == "efa"
        vendor = "1d0f" if efa else "15b3"
        cls = "0200" if efa or hca["link_layer"] == "Ethernet" else "0207"
        module = "efa" if efa else "mlx5_core"
        found.append(
            {
                "slot": _hca_slot(hca, hw, index),
                "cls": cls,
                "id": f"{vendor}:{hca['vendor_part_id']:04x}",
                "rev": "00",
                "sub": f"{vendor}:0007",
                "driver": module,
                "modules": module,
                "numa": hca["numa"],
            }
        )
    return sorted(found, key=lambda d: str(d["slot"]))


def name(device_id: str) -> str:
    """`Vendor Device name` as lspci prints it, `Device xxxx` for ids it has no name for."""
    vendor, dev = device_id.split(":")
    return f"{VENDORS.get(vendor, f'Vendor {vendor}')} {DEVICES.get(device_id, f'Device {dev}')}"
