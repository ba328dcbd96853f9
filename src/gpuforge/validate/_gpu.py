"""`GpuFacts`: what one GPU reports about itself, whichever nvidia-smi output it was read from."""

from __future__ import annotations

from dataclasses import dataclass, field

# NVML clock event ("throttle") reasons, bit -> canonical name (nvml.h, nvmlClocksEventReason*).
THROTTLE_BITS: dict[int, str] = {
    0x1: "gpu_idle",
    0x2: "applications_clocks_setting",
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x10: "sync_boost",
    0x20: "sw_thermal_slowdown",
    0x40: "hw_thermal_slowdown",
    0x80: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
}
# Reasons that mean the GPU runs slower than it should: heat or an external power brake.
HARMFUL_THROTTLE = frozenset(
    {"hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown"}
)

_COMPUTE_MODES = {
    "default": "DEFAULT",
    "exclusive_process": "EXCLUSIVE_PROCESS",
    "exclusive process": "EXCLUSIVE_PROCESS",
    "e. process": "EXCLUSIVE_PROCESS",
    "exclusive_thread": "EXCLUSIVE_THREAD",
    "e. thread": "EXCLUSIVE_THREAD",
    "prohibited": "PROHIBITED",
}


def compute_mode_name(text: str | None) -> str | None:
    """Map nvidia-smi's spellings (`Default`, `Exclusive_Process`, `E. Process`) to one name."""
    if text is None:
        return None
    return _COMPUTE_MODES.get(text.strip().lower(), text.strip().upper())


def enabled(text: str | None) -> bool | None:
    """Read `Enabled`/`Disabled`/`On`/`Off`/`Yes`/`No` as a bool; None for anything else."""
    if text is None:
        return None
    lowered = text.strip().lower()
    if lowered in {"enabled", "on", "yes", "1", "active", "true"}:
        return True
    if lowered in {"disabled", "off", "no", "0", "not active", "false"}:
        return False
    return None


def throttle_names(mask: int | None) -> tuple[str, ...]:
    """Turn an NVML clock-event bit mask into canonical reason names, lowest bit first."""
    if mask is None:
        return ()
    return tuple(name for bit, name in THROTTLE_BITS.items() if mask & bit)


@dataclass(frozen=True)
class GpuFacts:
    """One GPU as nvidia-smi describes it; a field is None when the output did not carry it."""

    index: int
    name: str | None = None
    uuid: str | None = None
    bus_id: str | None = None
    driver: str | None = None
    memory_mib: int | None = None
    persistence: bool | None = None
    compute_mode: str | None = None
    power_limit_w: float | None = None
    power_default_w: float | None = None
    power_min_w: float | None = None
    power_max_w: float | None = None
    ecc_uncorrected_volatile: int | None = None
    ecc_corrected_volatile: int | None = None
    remap_pending: bool | None = None
    throttle_reasons: tuple[str, ...] = field(default_factory=tuple)
    mig_mode: bool | None = None
    temperature_c: float | None = None
