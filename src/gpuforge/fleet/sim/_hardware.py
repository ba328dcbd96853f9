"""The simulated hardware of one node: GPUs, NVLink, HCAs/EFA, CPU/NUMA layout."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MigSpec:
    """One MIG GPU-instance profile as `nvidia-smi mig -lgip` lists it."""

    name: str
    id: int
    compute: int
    mem_slices: int
    instances: int
    memory_gib: float
    placements: tuple[int, ...]
    sm: int
    ce: int
    dec: int
    enc: int
    jpeg: int
    ofa: int


@dataclass(frozen=True)
class GpuSpec:
    """A GPU model's facts as the simulated driver reports them."""

    model: str
    smi_name: str
    architecture: str
    compute_capability: str
    memory_mib: int
    pci_device_id: str
    power_default_w: float
    power_min_w: float
    power_max_w: float
    clock_max_graphics: int
    clock_max_memory: int
    idle_power_w: float
    pcie_gen: int
    fanless: bool
    mig: tuple[MigSpec, ...] = ()


@dataclass(frozen=True)
class Hca:
    """An RDMA device: Mellanox mlx5 (InfiniBand or RoCE) or AWS EFA."""

    name: str
    kind: str
    ca_type: str
    vendor_part_id: int
    firmware: str
    rate: int
    link_layer: str
    numa: int


@dataclass(frozen=True)
class CpuLayout:
    """Sockets, cores and NUMA nodes; GPUs split evenly across NUMA nodes."""

    model: str
    sockets: int
    cores_per_socket: int
    threads_per_core: int = 2

    def affinity(self, numa: int) -> str:
        """The `topo -m` CPU Affinity of NUMA node `numa` (its cores, then their siblings)."""
        cores = self.cores_per_socket
        total = cores * self.sockets
        first = f"{numa * cores}-{(numa + 1) * cores - 1}"
        if self.threads_per_core < 2:
            return first
        return f"{first},{total + numa * cores}-{total + (numa + 1) * cores - 1}"


@dataclass(frozen=True)
class HardwareProfile:
    """A node's hardware: GPU model and count, NVLink, bus ids, HCAs, CPUs, NCCL bandwidths."""

    name: str
    description: str
    gpu: GpuSpec
    gpu_count: int
    bus_ids: tuple[str, ...]
    nvlink_links: int
    nvswitch: bool
    hcas: tuple[Hca, ...]
    cpu: CpuLayout
    intra_busbw_gbps: float
    pcie_busbw_gbps: float
    sources: tuple[str, ...] = field(default=())

    @property
    def efa(self) -> bool:
        """True when the node's RDMA devices are AWS EFA rather than mlx5."""
        return any(h.kind == "efa" for h in self.hcas)

    def hardware_json(self, node_name: str, node_index: int) -> dict[str, Any]:
        """The node's `/var/lib/gpuforge-sim/hardware.json`: fixed facts the tools read."""
        numa_nodes = self.cpu.sockets
        per_numa = max(1, -(-self.gpu_count // numa_nodes))
        gpus = []
        for i, bus in enumerate(self.bus_ids):
            digest = hashlib.sha256(f"{node_name}/{node_index}/gpu{i}".encode()).hexdigest()
            numa = min(i // per_numa, numa_nodes - 1)
            pair = i if len(self.hcas) >= self.gpu_count and self.gpu_count > 1 else None
            gpus.append(_gpu_json(self.gpu, bus, digest, numa, self.cpu.affinity(numa), pair))
        hcas = []
        for i, hca in enumerate(self.hcas):
            digest = hashlib.sha256(f"{node_name}/{node_index}/{hca.name}".encode()).hexdigest()
            pair = i if len(self.hcas) >= self.gpu_count and self.gpu_count > 1 else None
            hcas.append(
                {
                    "name": hca.name,
                    "kind": hca.kind,
                    "ca_type": hca.ca_type,
                    "vendor_part_id": hca.vendor_part_id,
                    "firmware": hca.firmware,
                    "rate": hca.rate,
                    "link_layer": hca.link_layer,
                    "numa": min(i * numa_nodes // max(1, len(self.hcas)), numa_nodes - 1),
                    "nic_pair": pair,
                    "guid": digest[:16],
                    "lid": 100 + node_index * 16 + i,
                }
            )
        return {
            "profile": self.name,
            "node": node_name,
            "node_index": node_index,
            "gpus": gpus,
            "nvlink": {"links": self.nvlink_links} if self.nvlink_links else None,
            "nvswitch": self.nvswitch,
            "mig_profiles": [_mig_json(m) for m in self.gpu.mig],
            "hcas": hcas,
            "cpu": {
                "model": self.cpu.model,
                "sockets": self.cpu.sockets,
                "cores_per_socket": self.cpu.cores_per_socket,
                "threads_per_core": self.cpu.threads_per_core,
            },
            "nccl": {"intra_busbw": self.intra_busbw_gbps, "pcie_busbw": self.pcie_busbw_gbps},
        }


def _gpu_json(
    gpu: GpuSpec, bus: str, digest: str, numa: int, cpus: str, pair: int | None
) -> dict[str, Any]:
    uuid = f"GPU-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    return {
        "model": gpu.model,
        "smi_name": gpu.smi_name,
        "architecture": gpu.architecture,
        "compute_capability": gpu.compute_capability,
        "memory_mib": gpu.memory_mib,
        "reserved_mib": 454 if gpu.memory_mib > 60000 else 256,
        "bar1_mib": 131072 if gpu.memory_mib > 60000 else 65536,
        "pci_device_id": f"0x{gpu.pci_device_id[2:].upper()}10DE",
        "pci_sub_device_id": "0x16C110DE",
        "bus_id": bus,
        "uuid": uuid,
        "serial": str(int(digest[32:44], 16))[:13].rjust(13, "1"),
        "vbios": "96.00.74.00.01" if gpu.architecture == "Hopper" else "92.00.36.00.01",
        "power_default_w": gpu.power_default_w,
        "power_min_w": gpu.power_min_w,
        "power_max_w": gpu.power_max_w,
        "idle_power_w": gpu.idle_power_w,
        "idle_temp_c": 30 + int(digest[44:46], 16) % 6,
        "slowdown_temp_c": 87,
        "clock_max_graphics": gpu.clock_max_graphics,
        "clock_max_memory": gpu.clock_max_memory,
        "clock_idle_graphics": 345,
        "clock_idle_video": 765,
        "clock_max_video": 1545,
        "pcie_gen": gpu.pcie_gen,
        "pcie_width": 16,
        "fanless": gpu.fanless,
        "ecc": True,
        "mig": bool(gpu.mig),
        "numa": numa,
        "cpus": cpus,
        "nic_pair": pair,
    }


def _mig_json(m: MigSpec) -> dict[str, Any]:
    return {
        "name": m.name,
        "id": m.id,
        "compute": m.compute,
        "mem_slices": m.mem_slices,
        "instances": m.instances,
        "memory_gib": m.memory_gib,
        "placements": list(m.placements),
        "sm": m.sm,
        "ce": m.ce,
        "dec": m.dec,
        "enc": m.enc,
        "jpeg": m.jpeg,
        "ofa": m.ofa,
    }
