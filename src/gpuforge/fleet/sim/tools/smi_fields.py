"""`nvidia-smi --query-gpu` fields: names, units and values, as NVIDIA's driver prints them.

Names and units follow `nvidia-smi --help-query-gpu` (R535-R590), checked against the real
captures in shared/reference/real-outputs/smi-csv/.
"""

from __future__ import annotations

import time

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Ctx = dict[str, Any]
    Getter = Callable[[Ctx], tuple[str, str]]

if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import simlib
else:
    import simlib

NA = "[N/A]"

EVENT_BITS = {
    "gpu_idle": 0x1,
    "applications_clocks_setting": 0x2,
    "sw_power_cap": 0x4,
    "hw_slowdown": 0x8,
    "sync_boost": 0x10,
    "sw_thermal_slowdown": 0x20,
    "hw_thermal_slowdown": 0x40,
    "hw_power_brake_slowdown": 0x80,
}

COMPUTE_MODES = {
    "Default": "Default",
    "Exclusive_Process": "E. Process",
    "Prohibited": "Prohibited",
}


def event_reasons(ctx: Ctx) -> int:
    """The active clocks-event (throttle) bitmask of one GPU."""
    mask = 0x1
    if simlib.gpu_fault(ctx["state"], "thermal-throttle", ctx["gpu"]["phys"]):
        mask = 0x20 | 0x40
    if ctx["gs"].get("app_clocks"):
        mask |= 0x2
    return mask


def temperature(ctx: Ctx) -> int:
    """GPU core temperature in C: idle, or near slowdown under a thermal fault."""
    if simlib.gpu_fault(ctx["state"], "thermal-throttle", ctx["gpu"]["phys"]):
        return int(ctx["gpu"]["slowdown_temp_c"]) + 3
    return int(ctx["gpu"]["idle_temp_c"])


def power_draw(ctx: Ctx) -> float:
    """Idle power draw in W, capped by the current limit."""
    return min(float(ctx["gpu"]["idle_power_w"]), float(ctx["gs"]["power_limit_w"]))


def ecc_uncorrected(ctx: Ctx) -> int:
    """Volatile uncorrectable ECC errors since the last driver load."""
    fault = simlib.gpu_fault(ctx["state"], "ecc-uncorrectable", ctx["gpu"]["phys"])
    count = int(fault.get("count", 1)) if fault else 0
    xid48 = simlib.gpu_fault(ctx["state"], "xid", ctx["gpu"]["phys"])
    if xid48 and int(xid48.get("code", 0)) == 48:
        count += 1
    return count


def remap_pending(ctx: Ctx) -> bool:
    """True when a row remap waits for a GPU reset (Xid 63 or an uncorrectable ECC error)."""
    xid = simlib.gpu_fault(ctx["state"], "xid", ctx["gpu"]["phys"])
    if xid and int(xid.get("code", 0)) in (48, 63):
        return True
    return ecc_uncorrected(ctx) > 0


def memory_used(ctx: Ctx) -> int:
    """MiB in use: 1 MiB on an idle GPU, the driver's 13 MiB per MIG GPU instance, and what the
    compute processes on it hold."""
    held = sum(int(a["memory_mib"]) for a in simlib.gpu_apps() if a["gpu"] == ctx["gpu"]["index"])
    return 1 + 13 * len(ctx["gs"].get("gis", [])) + held


def _on(flag: bool) -> str:
    return "Enabled" if flag else "Disabled"


def _active(ctx: Ctx, bit: int) -> str:
    return "Active" if event_reasons(ctx) & bit else "Not Active"


def _w(value: float) -> tuple[str, str]:
    return (f"{value:.2f} W", f"{value:.2f}")


def _mhz(value: int) -> tuple[str, str]:
    return (f"{value} MHz", str(value))


def _mib(value: int) -> tuple[str, str]:
    return (f"{value} MiB", str(value))


def _pct(value: int) -> tuple[str, str]:
    return (f"{value} %", str(value))


def _plain(value: object) -> tuple[str, str]:
    text = str(value)
    return (text, text)


def _clock_gr(ctx: Ctx) -> int:
    locked = ctx["gs"].get("locked_clocks")
    if simlib.gpu_fault(ctx["state"], "thermal-throttle", ctx["gpu"]["phys"]):
        return int(ctx["gpu"]["clock_max_graphics"]) // 2
    if locked:
        return int(locked[0])
    return int(ctx["gpu"]["clock_idle_graphics"])


def _app_clock(ctx: Ctx, which: int, key: str) -> int:
    app = ctx["gs"].get("app_clocks")
    return int(app[which]) if app else int(ctx["gpu"][key])


def _bus_parts(bus_id: str) -> tuple[str, str, str]:
    domain, bus, devfn = bus_id.split(":")
    return (
        f"0x{int(domain, 16):04X}",
        f"0x{int(bus, 16):02X}",
        f"0x{int(devfn.split('.')[0], 16):02X}",
    )


# name -> (header unit or "", getter returning (value with unit, value without unit))
FIELDS: dict[str, tuple[str, Getter]] = {
    "timestamp": ("", lambda c: _plain(time.strftime("%Y/%m/%d %H:%M:%S.000"))),
    "driver_version": ("", lambda c: _plain(c["state"]["driver"]["version"])),
    "count": ("", lambda c: _plain(c["count"])),
    "name": ("", lambda c: _plain(c["gpu"]["smi_name"])),
    "serial": ("", lambda c: _plain(c["gpu"]["serial"])),
    "uuid": ("", lambda c: _plain(c["gpu"]["uuid"])),
    "pci.bus_id": ("", lambda c: _plain(c["gpu"]["bus_id"])),
    "pci.domain": ("", lambda c: _plain(_bus_parts(c["gpu"]["bus_id"])[0])),
    "pci.bus": ("", lambda c: _plain(_bus_parts(c["gpu"]["bus_id"])[1])),
    "pci.device": ("", lambda c: _plain(_bus_parts(c["gpu"]["bus_id"])[2])),
    "pci.device_id": ("", lambda c: _plain(c["gpu"]["pci_device_id"])),
    "pci.sub_device_id": ("", lambda c: _plain(c["gpu"]["pci_sub_device_id"])),
    "pcie.link.gen.current": ("", lambda c: _plain(c["gpu"]["pcie_gen"])),
    "pcie.link.gen.gpucurrent": ("", lambda c: _plain(c["gpu"]["pcie_gen"])),
    "pcie.link.gen.max": ("", lambda c: _plain(c["gpu"]["pcie_gen"])),
    "pcie.link.gen.gpumax": ("", lambda c: _plain(c["gpu"]["pcie_gen"])),
    "pcie.link.width.current": ("", lambda c: _plain(c["gpu"]["pcie_width"])),
    "pcie.link.width.max": ("", lambda c: _plain(c["gpu"]["pcie_width"])),
    "index": ("", lambda c: _plain(c["gpu"]["index"])),
    "display_mode": ("", lambda c: _plain("Disabled")),
    "display_active": ("", lambda c: _plain("Disabled")),
    "persistence_mode": ("", lambda c: _plain(_on(bool(c["gs"]["persistence"])))),
    "accounting.mode": ("", lambda c: _plain("Disabled")),
    "accounting.buffer_size": ("", lambda c: _plain(4000)),
    "driver_model.current": ("", lambda c: _plain(NA)),
    "driver_model.pending": ("", lambda c: _plain(NA)),
    "vbios_version": ("", lambda c: _plain(c["gpu"]["vbios"])),
    "gpu_recovery_action": (
        "",
        lambda c: _plain("Reset" if remap_pending(c) else "None"),
    ),
    "gom.current": ("", lambda c: _plain(NA)),
    "gom.pending": ("", lambda c: _plain(NA)),
    "fan.speed": ("%", lambda c: _plain(NA) if c["gpu"]["fanless"] else _pct(30)),
    "pstate": ("", lambda c: _plain("P0")),
    "clocks_event_reasons.supported": ("", lambda c: _plain("0x00000000000001FF")),
    "clocks_event_reasons.active": ("", lambda c: _plain(f"0x{event_reasons(c):016X}")),
    "memory.total": ("MiB", lambda c: _mib(int(c["gpu"]["memory_mib"]))),
    "memory.reserved": ("MiB", lambda c: _mib(int(c["gpu"]["reserved_mib"]))),
    "memory.used": ("MiB", lambda c: _mib(memory_used(c))),
    "memory.free": (
        "MiB",
        lambda c: _mib(
            int(c["gpu"]["memory_mib"]) - int(c["gpu"]["reserved_mib"]) - memory_used(c)
        ),
    ),
    "compute_mode": ("", lambda c: _plain(c["gs"]["compute_mode"])),
    "compute_cap": ("", lambda c: _plain(c["gpu"]["compute_capability"])),
    "utilization.gpu": ("%", lambda c: _pct(simlib.gpu_app_util(int(c["gpu"]["index"])))),
    "utilization.memory": ("%", lambda c: _pct(0)),
    "utilization.encoder": ("%", lambda c: _pct(0)),
    "utilization.decoder": ("%", lambda c: _pct(0)),
    "ecc.mode.current": ("", lambda c: _plain(_on(bool(c["gpu"]["ecc"])))),
    "ecc.mode.pending": ("", lambda c: _plain(_on(bool(c["gpu"]["ecc"])))),
    "ecc.errors.corrected.volatile.total": ("", lambda c: _plain(0)),
    "ecc.errors.corrected.aggregate.total": ("", lambda c: _plain(0)),
    "ecc.errors.uncorrected.volatile.total": ("", lambda c: _plain(ecc_uncorrected(c))),
    "ecc.errors.uncorrected.aggregate.total": ("", lambda c: _plain(ecc_uncorrected(c))),
    "ecc.errors.uncorrected.volatile.dram": ("", lambda c: _plain(ecc_uncorrected(c))),
    "ecc.errors.uncorrected.volatile.device_memory": (
        "",
        lambda c: _plain(ecc_uncorrected(c)),
    ),
    "retired_pages.single_bit_ecc.count": ("", lambda c: _plain(NA)),
    "retired_pages.double_bit.count": ("", lambda c: _plain(NA)),
    "retired_pages.pending": ("", lambda c: _plain(NA)),
    "remapped_rows.correctable": ("", lambda c: _plain(0)),
    "remapped_rows.uncorrectable": ("", lambda c: _plain(ecc_uncorrected(c))),
    "remapped_rows.pending": ("", lambda c: _plain("Yes" if remap_pending(c) else "No")),
    "remapped_rows.failure": ("", lambda c: _plain("No")),
    "temperature.gpu": ("", lambda c: _plain(temperature(c))),
    "temperature.memory": ("", lambda c: _plain(temperature(c) + 6)),
    "power.management": ("", lambda c: _plain("Enabled")),
    "power.draw": ("W", lambda c: _w(power_draw(c))),
    "power.draw.average": ("W", lambda c: _w(power_draw(c))),
    "power.draw.instant": ("W", lambda c: _w(power_draw(c))),
    "power.limit": ("W", lambda c: _w(float(c["gs"]["power_limit_w"]))),
    "enforced.power.limit": ("W", lambda c: _w(float(c["gs"]["power_limit_w"]))),
    "power.default_limit": ("W", lambda c: _w(float(c["gpu"]["power_default_w"]))),
    "power.min_limit": ("W", lambda c: _w(float(c["gpu"]["power_min_w"]))),
    "power.max_limit": ("W", lambda c: _w(float(c["gpu"]["power_max_w"]))),
    "clocks.current.graphics": ("MHz", lambda c: _mhz(_clock_gr(c))),
    "clocks.current.sm": ("MHz", lambda c: _mhz(_clock_gr(c))),
    "clocks.current.memory": ("MHz", lambda c: _mhz(int(c["gpu"]["clock_max_memory"]))),
    "clocks.current.video": ("MHz", lambda c: _mhz(int(c["gpu"]["clock_idle_video"]))),
    "clocks.applications.graphics": (
        "MHz",
        lambda c: _mhz(_app_clock(c, 1, "clock_max_graphics")),
    ),
    "clocks.applications.memory": ("MHz", lambda c: _mhz(_app_clock(c, 0, "clock_max_memory"))),
    "clocks.default_applications.graphics": (
        "MHz",
        lambda c: _mhz(int(c["gpu"]["clock_max_graphics"])),
    ),
    "clocks.default_applications.memory": (
        "MHz",
        lambda c: _mhz(int(c["gpu"]["clock_max_memory"])),
    ),
    "clocks.max.graphics": ("MHz", lambda c: _mhz(int(c["gpu"]["clock_max_graphics"]))),
    "clocks.max.sm": ("MHz", lambda c: _mhz(int(c["gpu"]["clock_max_graphics"]))),
    "clocks.max.memory": ("MHz", lambda c: _mhz(int(c["gpu"]["clock_max_memory"]))),
    "mig.mode.current": ("", lambda c: _plain(_on(bool(c["gs"]["mig"])))),
    "mig.mode.pending": ("", lambda c: _plain(_on(bool(c["gs"]["mig_pending"])))),
    "fabric.state": (
        "",
        lambda c: _plain(
            ("Completed" if c["fabric_up"] else "In Progress") if c["nvswitch"] else NA
        ),
    ),
    "fabric.status": (
        "",
        lambda c: _plain(("Success" if c["fabric_up"] else "N/A") if c["nvswitch"] else NA),
    ),
}

for _name, _bit in EVENT_BITS.items():
    FIELDS[f"clocks_event_reasons.{_name}"] = (
        "",
        (lambda bit: lambda c: _plain(_active(c, bit)))(_bit),
    )

ALIASES = {
    "gpu_name": "name",
    "gpu_serial": "serial",
    "gpu_uuid": "uuid",
    "gpu_bus_id": "pci.bus_id",
    "id": "pci.bus_id",
    "persistence.mode": "persistence_mode",
    "clocks.gr": "clocks.current.graphics",
    "clocks.sm": "clocks.current.sm",
    "clocks.mem": "clocks.current.memory",
    "clocks.video": "clocks.current.video",
    "clocks.applications.gr": "clocks.applications.graphics",
    "clocks.applications.mem": "clocks.applications.memory",
    "clocks.max.gr": "clocks.max.graphics",
    "clocks.max.mem": "clocks.max.memory",
    "power.limit.default": "power.default_limit",
    "mig.mode": "mig.mode.current",
}
for _name in list(EVENT_BITS) + ["supported", "active"]:
    ALIASES[f"clocks_throttle_reasons.{_name}"] = f"clocks_event_reasons.{_name}"


def resolve(name: str) -> str | None:
    """The canonical field for `name` (aliases included), None when nvidia-smi rejects it."""
    canonical = ALIASES.get(name, name)
    return canonical if canonical in FIELDS else None


def header(name: str, nounits: bool) -> str:
    """The CSV header cell for field `name`: the name as asked, with its unit in brackets."""
    del nounits  # the real tool keeps units in the header even with nounits
    unit = FIELDS[resolve(name) or name][0]
    return f"{name} [{unit}]" if unit else name


def value(name: str, ctx: Ctx, nounits: bool) -> str:
    """The CSV cell for field `name` of the GPU in `ctx`."""
    with_unit, without = FIELDS[resolve(name) or name][1](ctx)
    return without if nounits else with_unit
