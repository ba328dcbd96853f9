"""Hardware profiles of simulated nodes, built from the catalog's GPU models.

The catalog gives each GPU's name, memory, power range, NVLink and MIG geometry. Facts it does
not carry live here, each with its source: clocks and idle draw (nvidia-smi -q captures in
shared/reference/real-outputs/smi-q/), per-profile MIG engine counts (`mig -lgip` captures in
shared/reference/real-outputs/mig/), HCA types and firmware (ibstat/ibv_devinfo captures),
NCCL bus bandwidths (gpu-stack-facts.md section 8 and the nccl-tests captures).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from gpuforge.catalog import GpuModel, load_catalog
from gpuforge.errors import InputError
from gpuforge.fleet.sim._hardware import CpuLayout, GpuSpec, HardwareProfile, Hca, MigSpec

# (graphics max MHz, memory MHz, idle W, PCIe gen): smi-q captures (H100 565.57, A100 525.60,
# A10 535.129); the others from the same families' published boost clocks (UNVERIFIED).
_CLOCKS: dict[str, tuple[int, int, float, int]] = {
    "Hopper": (1980, 2619, 72.0, 5),
    "Ampere": (1410, 1593, 62.0, 4),
    "Ada": (2520, 9001, 36.0, 4),
    "Blackwell": (1965, 3996, 140.0, 5),
    "Turing": (1590, 5001, 28.0, 3),
}

# profile id -> (SM, CE, DEC, ENC, JPEG, OFA): mig/h100nvl-azure-nc40ads-lgip-drv560.txt
# (Hopper, also used for Blackwell: UNVERIFIED) and mig/a100-40gb-lgip-7profiles-doc.txt.
_ENGINES: dict[str, dict[int, tuple[int, int, int, int, int, int]]] = {
    "Hopper": {
        19: (16, 1, 1, 0, 1, 0),
        20: (16, 1, 1, 0, 1, 1),
        15: (26, 1, 1, 0, 1, 0),
        14: (32, 2, 2, 0, 2, 0),
        9: (60, 3, 3, 0, 3, 0),
        5: (64, 4, 4, 0, 4, 0),
        0: (132, 8, 7, 0, 7, 1),
    },
    "Ampere": {
        19: (14, 1, 0, 0, 0, 0),
        20: (14, 1, 1, 0, 1, 1),
        15: (14, 1, 1, 0, 0, 0),
        14: (28, 2, 1, 0, 0, 0),
        9: (42, 3, 2, 0, 0, 0),
        5: (56, 4, 2, 0, 0, 0),
        0: (98, 7, 5, 0, 1, 1),
    },
}

# HGX baseboard PCI bus ids: smi-table/h100-8gpu-drv550.txt (H100), smi-q A100 capture (A100).
_HGX_BUSES = ("19", "3B", "4C", "5D", "9B", "BB", "CB", "DB")
_A100_BUSES = ("07", "0F", "47", "4E", "87", "90", "B7", "BD")


@dataclass(frozen=True)
class _Plan:
    description: str
    gpu: str
    count: int
    hcas: tuple[Hca, ...]
    cpu: CpuLayout
    intra_busbw: float
    buses: tuple[str, ...] = _HGX_BUSES


def _mlx(n: int, rate: int, layer: str = "InfiniBand", cx: int = 7) -> tuple[Hca, ...]:
    # ConnectX-7 MT4129 fw 28.39.1002 and ConnectX-6 MT4123 fw 20.31.1014: ibstat captures.
    ca, part, fw = ("MT4129", 4129, "28.39.1002") if cx == 7 else ("MT4123", 4123, "20.31.1014")
    return tuple(
        Hca(f"mlx5_{i}", "mlx5", ca, part, fw, rate, layer, 0 if i < n // 2 else 1)
        for i in range(n)
    )


def _efa(n: int) -> tuple[Hca, ...]:
    # EFA devices (vendor 0x1d0f, part 0xefa1), 100 Gb/s each on p5: gpu-stack-facts.md 7.
    return tuple(
        Hca(f"rdmap{80 + i}s0", "efa", "", 0xEFA1, "0.0.0.0", 100, "Unspecified", i * 2 // n)
        for i in range(n)
    )


_SAPPHIRE = CpuLayout("Intel(R) Xeon(R) Platinum 8480+", 2, 56)
_EPYC = CpuLayout("AMD EPYC 7742 64-Core Processor", 2, 64)
_EPYC_SMALL = CpuLayout("AMD EPYC 7R32", 1, 24)

_PLANS: dict[str, _Plan] = {
    "hgx-h100-8": _Plan(
        "8x H100 SXM5, NVSwitch, 8x 400G NDR InfiniBand", "H100", 8, _mlx(8, 400), _SAPPHIRE, 470.0
    ),
    "hgx-a100-80-8": _Plan(
        "8x A100 80GB SXM4, NVSwitch, 8x 200G HDR InfiniBand",
        "A100-80GB",
        8,
        _mlx(8, 200, cx=6),
        _EPYC,
        235.0,
        _A100_BUSES,
    ),
    "hgx-a100-40-8": _Plan(
        "8x A100 40GB SXM4, NVSwitch, 8x 200G HDR InfiniBand",
        "A100-40GB",
        8,
        _mlx(8, 200, cx=6),
        _EPYC,
        235.0,
        _A100_BUSES,
    ),
    "h200-8": _Plan(
        "8x H200 SXM, NVSwitch, 8x 400G NDR InfiniBand", "H200", 8, _mlx(8, 400), _SAPPHIRE, 475.0
    ),
    "dgx-b200-8": _Plan(
        "8x B200, NVSwitch, 8x 400G NDR InfiniBand", "B200", 8, _mlx(8, 400), _SAPPHIRE, 740.0
    ),
    "p5-efa": _Plan(
        "AWS p5.48xlarge: 8x H100 SXM5, NVSwitch, 32x EFA (3200 Gb/s)",
        "H100",
        8,
        _efa(32),
        CpuLayout("AMD EPYC 7R13 Processor", 2, 48),
        470.0,
    ),
    "l40s-4": _Plan(
        "4x L40S PCIe, no NVLink, 2x 100G RoCE",
        "L40S",
        4,
        _mlx(2, 100, "Ethernet", cx=6),
        _EPYC,
        20.0,
        ("01", "41", "81", "C1"),
    ),
    "a10g-1": _Plan(
        "1x A10G (AWS g5.xlarge class), no RDMA", "A10G", 1, (), _EPYC_SMALL, 0.0, ("1E",)
    ),
    "t4-1": _Plan("1x T4 (AWS g4dn.xlarge class), no RDMA", "T4", 1, (), _EPYC_SMALL, 0.0, ("1E",)),
}


def _mig_specs(model: GpuModel) -> tuple[MigSpec, ...]:
    if model.mig is None:
        return ()
    engines = _ENGINES["Ampere" if model.architecture == "Ampere" else "Hopper"]
    specs = []
    for prof in sorted(model.mig.profiles.values(), key=lambda p: (p.compute, p.size, p.id)):
        sm, ce, dec, enc, jpeg, ofa = engines[prof.id]
        if prof.id == 0 and model.architecture == "Blackwell":
            sm = 148
        specs.append(
            MigSpec(
                prof.name,
                prof.id,
                prof.compute,
                prof.size,
                prof.max,
                prof.memory_gib,
                prof.starts,
                sm,
                ce,
                dec,
                enc,
                jpeg,
                ofa,
            )
        )
    return tuple(specs)


def _gpu_spec(model: GpuModel) -> GpuSpec:
    gfx, mem, idle, gen = _CLOCKS.get(model.architecture, _CLOCKS["Ampere"])
    return GpuSpec(
        model=model.name,
        smi_name=model.smi_name,
        architecture=model.architecture,
        compute_capability=model.compute_capability,
        memory_mib=model.memory_mib,
        pci_device_id=model.pci_device_id,
        power_default_w=model.power.default,
        power_min_w=model.power.min,
        power_max_w=model.power.max,
        clock_max_graphics=gfx,
        clock_max_memory=mem,
        idle_power_w=min(idle, model.power.default * 0.4),
        pcie_gen=gen,
        fanless=model.form_factor == "SXM" or model.name in ("L40S", "A10G", "T4"),
        mig=_mig_specs(model),
    )


@cache
def _build(name: str) -> HardwareProfile:
    plan = _PLANS[name]
    model = load_catalog().gpu(plan.gpu)
    links = model.nvlink.links if model.nvlink else 0
    pcie = 45.0 if _CLOCKS.get(model.architecture, _CLOCKS["Ampere"])[3] >= 5 else 22.0
    return HardwareProfile(
        name=name,
        description=plan.description,
        gpu=_gpu_spec(model),
        gpu_count=plan.count,
        bus_ids=tuple(f"00000000:{b}:00.0" for b in plan.buses[: plan.count]),
        nvlink_links=links,
        nvswitch=bool(model.nvlink and model.nvlink.switched),
        hcas=plan.hcas,
        cpu=plan.cpu,
        intra_busbw_gbps=plan.intra_busbw if plan.count > 1 else 0.0,
        pcie_busbw_gbps=pcie,
        sources=model.sources,
    )


def profile_names() -> list[str]:
    """Names of the hardware profiles a fleet node can have, for `fleet up --profile`."""
    return sorted(_PLANS)


def get_profile(name: str) -> HardwareProfile:
    """The hardware profile `name`; InputError listing the known names for an unknown one."""
    if name not in _PLANS:
        raise InputError(
            f"unknown hardware profile {name!r}",
            fix=f"use one of: {', '.join(profile_names())}",
        )
    return _build(name)
