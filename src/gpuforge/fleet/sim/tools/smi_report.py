"""Read-only reports of the simulated nvidia-smi: the default table, -L, -q and topo -m.

Layouts follow driver R550+ (89-column table) as captured in shared/reference/real-outputs/.
"""

from __future__ import annotations

import time

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Ctx = dict[str, Any]
    Json = dict[str, Any]

if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import smi_fields, smi_legacy, smi_r590
else:
    import smi_fields
    import smi_legacy
    import smi_r590

# The driver branch whose -q layout is the current one (Clocks Event Reasons, GPU Power Readings).
CURRENT_LAYOUT_BRANCH = 535

WIDE = "+" + "-" * 89 + "+"
# -q identity facts per architecture: smi-q captures (H100 565.57 board and InfoROM) and the A100
# capture (525.60); UNVERIFIED for the others.
BOARD_PARTS = {"Hopper": "692-2G520-0200-000", "Ampere": "692-2G506-0210-002"}
INFOROM = {"Hopper": "G520.0200.00.05", "Ampere": "G506.0210.00.03"}
SEP = "+" + "-" * 41 + "+" + "-" * 24 + "+" + "-" * 22 + "+"
MIG_SEP = "+" + "-" * 18 + "+" + "-" * 34 + "+" + "-" * 11 + "+" + "-" * 23 + "+"


def _fit(left: str, right: str, width: int) -> str:
    return left + " " * max(1, width - len(left) - len(right)) + right


def table(head: Json, ctxs: list[Ctx]) -> str:
    """The default `nvidia-smi` output: one three-line block per GPU, MIG devices, processes."""
    drv, cuda = head["driver"], head["cuda"]
    out = [
        time.asctime() + "       ",
        WIDE,
        f"| NVIDIA-SMI {drv:<23}Driver Version: {drv:<15}CUDA Version: {cuda:<9}|",
        "|" + "-" * 41 + "+" + "-" * 24 + "+" + "-" * 22 + "+",
        "| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |",
        "| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |",
        "|                                         |                        |               MIG M. |",
        "|" + "=" * 41 + "+" + "=" * 24 + "+" + "=" * 22 + "|",
    ]
    for ctx in ctxs:
        gpu, gs = ctx["gpu"], ctx["gs"]
        mig = bool(gs["mig"])
        pm = "On" if gs["persistence"] else "Off"
        ecc = "On" if mig else str(smi_fields.ecc_uncorrected(ctx))
        fan = "N/A" if gpu["fanless"] else "30%"
        total = int(gpu["memory_mib"])
        used = smi_fields.memory_used(ctx)
        util = "N/A" if mig else "0%"
        draw = int(smi_fields.power_draw(ctx))
        cap = int(float(gs["power_limit_w"]))
        mode = smi_fields.COMPUTE_MODES.get(gs["compute_mode"], gs["compute_mode"])
        out += [
            "|"
            + _fit(f"{gpu['index']:>4}  {gpu['smi_name']}", f"{pm}  ", 41)
            + f"|   {gpu['bus_id']} Off |{ecc:>21} |",
            "|"
            + _fit(f" {fan:>3}{smi_fields.temperature(ctx):>5}C    P0", f"{draw}W / {cap:>4}W ", 41)
            + "|"
            + f"{used:>8}MiB / {total:>6}MiB "
            + "|"
            + f"{util:>8}{mode:>13} |",
            "|" + " " * 41 + "|" + " " * 24 + "|" + f"{'Enabled' if mig else 'Disabled':>21} |",
            SEP,
        ]
    migs = [(ctx, gi) for ctx in ctxs for gi in ctx["gs"].get("gis", []) if ctx["gs"]["mig"]]
    if migs:
        out += _mig_devices(migs)
    out += [
        "",
        WIDE,
        "| Processes:" + " " * 78 + "|",
        "|  GPU   GI   CI        PID   Type   Process name" + " " * 30 + "GPU Memory |",
        "|        ID   ID" + " " * 63 + "Usage      |",
        "|" + "=" * 89 + "|",
        "|  No running processes found" + " " * 61 + "|",
        WIDE,
    ]
    return "\n".join(out) + "\n"


def _mig_devices(migs: list[tuple[Ctx, Json]]) -> list[str]:
    out = [
        "",
        WIDE,
        "| MIG devices:" + " " * 76 + "|",
        MIG_SEP,
        "| GPU  GI  CI  MIG |                     Memory-Usage |        Vol|        Shared         |",
        "|      ID  ID  Dev |                       BAR1-Usage | SM     Unc| CE ENC  DEC  OFA  JPG |",
        "|                  |                                  |        ECC|                       |",
        "|" + "=" * 18 + "+" + "=" * 34 + "+" + "=" * 11 + "+" + "=" * 23 + "|",
    ]
    dev: dict[int, int] = {}
    for ctx, gi in migs:
        prof = next(p for p in ctx["profiles"] if p["id"] == gi["profile_id"])
        index = int(ctx["gpu"]["index"])
        for ci in gi["cis"]:
            number = dev.get(index, 0)
            dev[index] = number + 1
            total = int(prof["memory_gib"] * 1024)
            bar1 = 16384 * int(gi["size"]) - 1
            out += [
                f"|{index:>3}{gi['id']:>5}{ci['id']:>4}{number:>4}  |{13:>16}MiB / {total:>5}MiB    |"
                f" {prof['sm']:<3}{0:>6} |{prof['ce']:>3}{prof['enc']:>4}{prof['dec']:>5}"
                f"{prof['ofa']:>5}{prof['jpeg']:>5} |",
                f"|{'':18}|{0:>18}MiB / {bar1:>5}MiB  |{'':11}|{'':23}|",
                MIG_SEP,
            ]
    return out


def list_gpus(ctxs: list[Ctx]) -> str:
    """`nvidia-smi -L`: one line per GPU, then its MIG devices."""
    out = []
    for ctx in ctxs:
        gpu = ctx["gpu"]
        out.append(f"GPU {gpu['index']}: {gpu['smi_name']} (UUID: {gpu['uuid']})")
        if not ctx["gs"]["mig"]:
            continue
        number = 0
        for gi in ctx["gs"].get("gis", []):
            for ci in gi["cis"]:
                uuid = f"MIG-{gpu['uuid'][4:-4]}{gi['id']:02x}{ci['id']:02x}"
                out.append(f"  MIG {gi['name']:<11}Device {number:>2}: (UUID: {uuid})")
                number += 1
    return "\n".join(out) + "\n"


def _kv(indent: int, key: str, val: object) -> str:
    return f"{'    ' * indent}{key:<{42 - 4 * indent}}: {val}"


def _sec(indent: int, name: str) -> str:
    return "    " * indent + name


def query(head: Json, ctxs: list[Ctx], displays: set[str]) -> str:
    """`nvidia-smi -q [-d SECTIONS]`: the NVSMI LOG, all sections or the `-d` ones."""
    out = [
        "==============NVSMI LOG==============",
        "",
        _kv(0, "Timestamp", time.asctime()),
        _kv(0, "Driver Version", head["driver"]),
        _kv(0, "CUDA Version", head["cuda"]),
        "",
        _kv(0, "Attached GPUs", len(ctxs)),
    ]
    for n, ctx in enumerate(ctxs):
        if n:
            out.append("")
        out.append(f"GPU {ctx['gpu']['bus_id']}")
        rows: list[str] = []
        for section, builder in SECTIONS:
            if not displays or section in displays:
                rows += builder(ctx, bool(displays))
        if legacy_layout(head["driver"]):
            rows = smi_legacy.legacy(rows)
        elif smi_r590.current(head["driver"]):
            rows = smi_r590.r590(rows)
        out += rows
    return "\n".join(out) + "\n\n"


def legacy_layout(driver: str) -> bool:
    """True for drivers older than R535, whose -q uses the older section and key names."""
    return int(driver.split(".")[0]) < CURRENT_LAYOUT_BRANCH


def _mig_q(ctx: Ctx) -> list[str]:
    """R590+ -q: one `MIG Device` block per compute instance while MIG is on (H100 R590 capture;
    the layout of older drivers' MIG blocks is not in any capture here, so they print none)."""
    out: list[str] = []
    index = 0
    gis = ctx["gs"].get("gis", []) if ctx["gs"]["mig"] else []
    for gi in gis:
        prof = next(p for p in ctx["profiles"] if p["id"] == gi["profile_id"])
        total, bar1 = int(prof["memory_gib"] * 1024), 16384 * int(gi["size"]) - 1
        for ci in gi["cis"]:
            out += [
                _sec(1, "MIG Device"),
                _kv(2, "Index", index),
                _kv(2, "GPU Instance ID", gi["id"]),
                _kv(2, "Compute Instance ID", ci["id"]),
                _sec(2, "Device Attributes"),
                _sec(3, "Shared"),
                _kv(4, "Multiprocessor count", prof["sm"]),
                _kv(4, "Copy Engine count", prof["ce"]),
                _kv(4, "Encoder count", prof["enc"]),
                _kv(4, "Decoder count", prof["dec"]),
                _kv(4, "OFA count", prof["ofa"]),
                _kv(4, "JPG count", prof["jpeg"]),
                _sec(2, "ECC Errors"),
                _sec(3, "Volatile"),
                _kv(4, "SRAM Uncorrectable", 0),
                _sec(2, "Shared FB Memory Usage"),
                _kv(3, "Total", f"{total} MiB"),
                _kv(3, "Reserved", "0 MiB"),
                _kv(3, "Used", "13 MiB"),
                _kv(3, "Free", f"{total - 13} MiB"),
                _sec(2, "Shared BAR1 Memory"),
                _kv(3, "Total", f"{bar1} MiB"),
                _kv(3, "Used", "0 MiB"),
                _kv(3, "Free", f"{bar1} MiB"),
            ]
            index += 1
    return out


def _identity(ctx: Ctx, filtered: bool) -> list[str]:
    gpu, gs = ctx["gpu"], ctx["gs"]
    on = {True: "Enabled", False: "Disabled"}
    driver = ctx["state"]["driver"]["version"]
    bus = smi_fields.value("pci.bus", ctx, False)
    gen = gpu["pcie_gen"]
    caps = "FETCHADD_32 FETCHADD_64 SWAP_32 SWAP_64 CAS_32 CAS_64 "
    na = "N/A"
    return [
        _kv(1, "Product Name", gpu["smi_name"]),
        _kv(1, "Product Brand", "NVIDIA"),
        _kv(1, "Product Architecture", gpu["architecture"]),
        _kv(1, "Display Mode", "Disabled"),
        _kv(1, "Display Active", "Disabled"),
        _kv(1, "Persistence Mode", on[bool(gs["persistence"])]),
        _kv(1, "Addressing Mode", "None"),
        _sec(1, "MIG Mode"),
        _kv(2, "Current", on[bool(gs["mig"])] if gpu["mig"] else na),
        _kv(2, "Pending", on[bool(gs["mig_pending"])] if gpu["mig"] else na),
        *(_mig_q(ctx) if smi_r590.current(driver) else []),
        _kv(1, "Accounting Mode", "Disabled"),
        _kv(1, "Accounting Mode Buffer Size", 4000),
        _sec(1, "Driver Model"),
        _kv(2, "Current", na),
        _kv(2, "Pending", na),
        _kv(1, "Serial Number", gpu["serial"]),
        _kv(1, "GPU UUID", gpu["uuid"]),
        _kv(1, "Minor Number", gpu["phys"]),
        _kv(1, "VBIOS Version", gpu["vbios"]),
        _kv(1, "MultiGPU Board", "No"),
        _kv(1, "Board ID", f"0x{int(bus, 16):x}00"),
        _kv(1, "Board Part Number", BOARD_PARTS.get(gpu["architecture"], na)),
        _kv(1, "GPU Part Number", f"{gpu['pci_device_id'][2:6]}-885-A1"),
        _kv(1, "FRU Part Number", na),
        _sec(1, "Platform Info"),
        _kv(2, "RACK Serial Number", na),
        _kv(2, "Chassis Physical Slot Number", na),
        _kv(2, "Compute Slot Index", na),
        _kv(2, "Node Index", na),
        _kv(2, "Peer Type", na),
        _kv(2, "Module Id", gpu["phys"] + 1),
        _sec(1, "Inforom Version"),
        _kv(2, "Image Version", INFOROM.get(gpu["architecture"], na)),
        _kv(2, "OEM Object", "2.1"),
        _kv(2, "ECC Object", "7.16" if gpu["architecture"] == "Hopper" else "6.16"),
        _kv(2, "Power Management Object", na),
        _sec(1, "Inforom BBX Object Flush"),
        _kv(2, "Latest Timestamp", na),
        _kv(2, "Latest Duration", na),
        _sec(1, "GPU Operation Mode"),
        _kv(2, "Current", na),
        _kv(2, "Pending", na),
        _kv(1, "GPU C2C Mode", "Disabled" if gpu["architecture"] == "Hopper" else na),
        _sec(1, "GPU Virtualization Mode"),
        _kv(2, "Virtualization Mode", "None"),
        _kv(2, "Host VGPU Mode", na),
        _kv(2, "vGPU Heterogeneous Mode", na),
        _sec(1, "GPU Reset Status"),
        _kv(2, "Reset Required", "Yes" if smi_fields.remap_pending(ctx) else "No"),
        _kv(2, "Drain and Reset Recommended", "No"),
        _kv(1, "GPU Recovery Action", "None"),
        _kv(1, "GSP Firmware Version", driver),
        _sec(1, "IBMNPU"),
        _kv(2, "Relaxed Ordering Mode", na),
        _sec(1, "PCI"),
        _kv(2, "Bus", bus),
        _kv(2, "Device", smi_fields.value("pci.device", ctx, False)),
        _kv(2, "Domain", smi_fields.value("pci.domain", ctx, False)),
        _kv(2, "Base Classcode", "0x3"),
        _kv(2, "Sub Classcode", "0x2"),
        _kv(2, "Device Id", gpu["pci_device_id"]),
        _kv(2, "Bus Id", gpu["bus_id"]),
        _kv(2, "Sub System Id", gpu["pci_sub_device_id"]),
        _sec(2, "GPU Link Info"),
        _sec(3, "PCIe Generation"),
        _kv(4, "Max", gen),
        _kv(4, "Current", gen),
        _kv(4, "Device Current", gen),
        _kv(4, "Device Max", gen),
        _kv(4, "Host Max", gen),
        _sec(3, "Link Width"),
        _kv(4, "Max", f"{gpu['pcie_width']}x"),
        _kv(4, "Current", f"{gpu['pcie_width']}x"),
        _sec(2, "Bridge Chip"),
        _kv(3, "Type", na),
        _kv(3, "Firmware", na),
        _kv(2, "Replays Since Reset", 0),
        _kv(2, "Replay Number Rollovers", 0),
        _kv(2, "Tx Throughput", "0 KB/s"),
        _kv(2, "Rx Throughput", "0 KB/s"),
        _kv(2, "Atomic Caps Outbound", caps),
        _kv(2, "Atomic Caps Inbound", caps),
        _kv(1, "Fan Speed", "N/A" if gpu["fanless"] else "30 %"),
    ]


def _performance(ctx: Ctx, filtered: bool) -> list[str]:
    names = [
        ("Idle", 0x1),
        ("Applications Clocks Setting", 0x2),
        ("SW Power Cap", 0x4),
        ("HW Slowdown", 0x8),
        ("    HW Thermal Slowdown", 0x40),
        ("    HW Power Brake Slowdown", 0x80),
        ("Sync Boost", 0x10),
        ("SW Thermal Slowdown", 0x20),
        ("Display Clock Setting", 0x100),
    ]
    mask = smi_fields.event_reasons(ctx)
    rows = [_kv(1, "Performance State", "P0"), _sec(1, "Clocks Event Reasons")]
    for name, bit in names:
        state = "Active" if mask & bit else "Not Active"
        if name.startswith("    "):
            rows.append(_kv(3, name.strip(), state))
        else:
            rows.append(_kv(2, name, state))
    return [*rows, _kv(1, "Sparse Operation Mode", "Disabled")]


def _memory(ctx: Ctx, filtered: bool) -> list[str]:
    gpu = ctx["gpu"]
    total, reserved = int(gpu["memory_mib"]), int(gpu["reserved_mib"])
    used = smi_fields.memory_used(ctx)
    return [
        _sec(1, "FB Memory Usage"),
        _kv(2, "Total", f"{total} MiB"),
        _kv(2, "Reserved", f"{reserved} MiB"),
        _kv(2, "Used", f"{used} MiB"),
        _kv(2, "Free", f"{total - reserved - used} MiB"),
        _sec(1, "BAR1 Memory Usage"),
        _kv(2, "Total", f"{gpu['bar1_mib']} MiB"),
        _kv(2, "Used", "1 MiB"),
        _kv(2, "Free", f"{int(gpu['bar1_mib']) - 1} MiB"),
        _sec(1, "Conf Compute Protected Memory Usage"),
        _kv(2, "Total", "0 MiB"),
        _kv(2, "Used", "0 MiB"),
        _kv(2, "Free", "0 MiB"),
    ]


def _compute(ctx: Ctx, filtered: bool) -> list[str]:
    return [_kv(1, "Compute Mode", ctx["gs"]["compute_mode"])]


def _utilization(ctx: Ctx, filtered: bool) -> list[str]:
    rows = [_sec(1, "Utilization")]
    rows += [_kv(2, k, "N/A" if ctx["gs"]["mig"] else "0 %") for k in ("Gpu", "Memory")]
    rows += [_kv(2, k, "0 %") for k in ("Encoder", "Decoder", "JPEG", "OFA")]
    for stats in ("Encoder Stats", "FBC Stats"):
        rows += [_sec(1, stats)]
        rows += [_kv(2, k, 0) for k in ("Active Sessions", "Average FPS", "Average Latency")]
    return rows


def _ecc(ctx: Ctx, filtered: bool) -> list[str]:
    on = "Enabled" if ctx["gpu"]["ecc"] else "Disabled"
    unc = smi_fields.ecc_uncorrected(ctx)
    rows = [
        _sec(1, "ECC Mode"),
        _kv(2, "Current", on),
        _kv(2, "Pending", on),
        _sec(1, "ECC Errors"),
    ]
    for scope in ("Volatile", "Aggregate"):
        rows += [
            _sec(2, scope),
            _kv(3, "SRAM Correctable", 0),
            _kv(3, "SRAM Uncorrectable Parity", 0),
            _kv(3, "SRAM Uncorrectable SEC-DED", 0),
            _kv(3, "DRAM Correctable", 0),
            _kv(3, "DRAM Uncorrectable", unc),
        ]
    rows += [
        _kv(3, "SRAM Threshold Exceeded", "No"),
        _sec(2, "Aggregate Uncorrectable SRAM Sources"),
    ]
    rows += [_kv(3, f"SRAM {k}", 0) for k in ("L2", "SM", "Microcontroller", "PCIE", "Other")]
    return rows


def _retirement(ctx: Ctx, filtered: bool) -> list[str]:
    pending = "Yes" if smi_fields.remap_pending(ctx) else "No"
    return [
        _sec(1, "Retired Pages"),
        _kv(2, "Single Bit ECC", "N/A"),
        _kv(2, "Double Bit ECC", "N/A"),
        _kv(2, "Pending Page Blacklist", "N/A"),
        _sec(1, "Remapped Rows"),
        _kv(2, "Correctable Error", 0),
        _kv(2, "Uncorrectable Error", smi_fields.ecc_uncorrected(ctx)),
        _kv(2, "Pending", pending),
        _kv(2, "Remapping Failure Occurred", "No"),
        _sec(2, "Bank Remap Availability Histogram"),
        _kv(3, "Max", f"{2560 if ctx['gpu']['architecture'] == 'Hopper' else 640} bank(s)"),
        *[_kv(3, k, "0 bank(s)") for k in ("High", "Partial", "Low", "None")],
    ]


def _temperature(ctx: Ctx, filtered: bool) -> list[str]:
    gpu = ctx["gpu"]
    temp = smi_fields.temperature(ctx)
    return [
        _sec(1, "Temperature"),
        # R550+ report the limits as margins to the T.Limit (the capture: -8, -2, 0 C).
        _kv(2, "GPU Current Temp", f"{temp} C"),
        _kv(2, "GPU T.Limit Temp", f"{int(gpu['slowdown_temp_c']) + 5 - temp} C"),
        _kv(2, "GPU Shutdown T.Limit Temp", "-8 C"),
        _kv(2, "GPU Slowdown T.Limit Temp", "-2 C"),
        _kv(2, "GPU Max Operating T.Limit Temp", "0 C"),
        _kv(2, "GPU Target Temperature", "N/A"),
        _kv(2, "Memory Current Temp", f"{temp + 6} C"),
        _kv(2, "Memory Max Operating T.Limit Temp", "0 C"),
    ]


def _power(ctx: Ctx, filtered: bool) -> list[str]:
    gpu, gs = ctx["gpu"], ctx["gs"]
    draw = smi_fields.power_draw(ctx)
    limit = float(gs["power_limit_w"])
    rows = [
        _sec(1, "GPU Power Readings"),
        _kv(2, "Power Draw", f"{draw:.2f} W"),
        _kv(2, "Current Power Limit", f"{limit:.2f} W"),
        _kv(2, "Requested Power Limit", f"{limit:.2f} W"),
        _kv(2, "Default Power Limit", f"{float(gpu['power_default_w']):.2f} W"),
        _kv(2, "Min Power Limit", f"{float(gpu['power_min_w']):.2f} W"),
        _kv(2, "Max Power Limit", f"{float(gpu['power_max_w']):.2f} W"),
    ]
    if filtered:
        rows += [
            _sec(1, "Power Samples"),
            _kv(2, "Duration", "2.37 sec"),
            _kv(2, "Number of Samples", 119),
            _kv(2, "Max", f"{draw + 1.5:.2f} W"),
            _kv(2, "Min", f"{draw - 1.5:.2f} W"),
            _kv(2, "Avg", f"{draw:.2f} W"),
        ]
    rows += [_sec(1, "GPU Memory Power Readings "), _kv(2, "Power Draw", "N/A")]
    rows += [_sec(1, "Module Power Readings")]
    rows += [
        _kv(2, k, "N/A")
        for k in (
            "Power Draw",
            "Current Power Limit",
            "Requested Power Limit",
            "Default Power Limit",
            "Min Power Limit",
            "Max Power Limit",
        )
    ]
    return rows


def _clock(ctx: Ctx, filtered: bool) -> list[str]:
    gpu = ctx["gpu"]
    cur = smi_fields.value("clocks.current.graphics", ctx, False)
    app_gr = smi_fields.value("clocks.applications.graphics", ctx, False)
    app_mem = smi_fields.value("clocks.applications.memory", ctx, False)
    mem = f"{gpu['clock_max_memory']} MHz"
    gmax = f"{gpu['clock_max_graphics']} MHz"
    return [
        _sec(1, "Clocks"),
        _kv(2, "Graphics", cur),
        _kv(2, "SM", cur),
        _kv(2, "Memory", mem),
        _kv(2, "Video", f"{gpu['clock_idle_video']} MHz"),
        _sec(1, "Applications Clocks"),
        _kv(2, "Graphics", app_gr),
        _kv(2, "Memory", app_mem),
        _sec(1, "Default Applications Clocks"),
        _kv(2, "Graphics", gmax),
        _kv(2, "Memory", mem),
        _sec(1, "Deferred Clocks"),
        _kv(2, "Memory", "N/A"),
        _sec(1, "Max Clocks"),
        _kv(2, "Graphics", gmax),
        _kv(2, "SM", gmax),
        _kv(2, "Memory", mem),
        _kv(2, "Video", f"{gpu['clock_max_video']} MHz"),
        _sec(1, "Max Customer Boost Clocks"),
        _kv(2, "Graphics", gmax),
        _sec(1, "Clock Policy"),
        _kv(2, "Auto Boost", "N/A"),
        _kv(2, "Auto Boost Default", "N/A"),
    ]


def _voltage(ctx: Ctx, filtered: bool) -> list[str]:
    return [_sec(1, "Voltage"), _kv(2, "Graphics", "685.000 mV")]


def _fabric(ctx: Ctx, filtered: bool) -> list[str]:
    switched = bool(ctx.get("nvswitch"))
    state = ("Completed" if ctx.get("fabric_up") else "In Progress") if switched else "N/A"
    return [
        _sec(1, "Fabric"),
        _kv(2, "State", state),
        _kv(2, "Status", "Success" if state == "Completed" else "N/A"),
        _kv(2, "CliqueId", 0 if switched else "N/A"),
        _kv(2, "ClusterUUID", "00000000-0000-0000-0000-000000000000" if switched else "N/A"),
        _sec(2, "Health"),
        _kv(3, "Bandwidth", "N/A"),
    ]


def _processes(ctx: Ctx, filtered: bool) -> list[str]:
    rows = [_kv(1, "Processes", "None")]
    return rows if filtered else [*rows, _sec(1, "Capabilities"), _kv(2, "EGM", "disabled")]


SECTIONS = [
    ("", _identity),
    ("PERFORMANCE", _performance),
    ("MEMORY", _memory),
    ("COMPUTE", _compute),
    ("UTILIZATION", _utilization),
    ("ECC", _ecc),
    ("PAGE_RETIREMENT", _retirement),
    ("TEMPERATURE", _temperature),
    ("POWER", _power),
    ("CLOCK", _clock),
    ("VOLTAGE", _voltage),
    ("FABRIC", _fabric),
    ("PIDS", _processes),
]
DISPLAYS = {name for name, _ in SECTIONS if name} | {"ROW_REMAPPER"}


def topo(hw: Json, ctxs: list[Ctx], nvlink_down: set[int]) -> str:
    """`nvidia-smi topo -m`: the tab-separated GPU/NIC matrix and its legends."""
    nics = hw["hcas"]
    gpus = [c["gpu"] for c in ctxs]
    link = hw.get("nvlink")
    head = [f"GPU{g['index']}" for g in gpus] + [f"NIC{i}" for i in range(len(nics))]
    out = ["\t" + "\t".join(head + ["CPU Affinity", "NUMA Affinity", "GPU NUMA ID"])]

    def pcie(a: Json, b: Json) -> str:
        if a.get("nic_pair") is not None and a.get("nic_pair") == b.get("nic_pair"):
            return "PIX"
        return "NODE" if a["numa"] == b["numa"] else "SYS"

    for g in gpus:
        cells = []
        for o in gpus:
            if o is g:
                cells.append(" X ")
            elif link and g["phys"] not in nvlink_down and o["phys"] not in nvlink_down:
                cells.append(f"NV{link['links']}")
            else:
                cells.append(pcie(g, o))
        cells += [pcie(g, n) for n in nics]
        out.append(f"GPU{g['index']}\t" + "\t".join(cells) + f"\t{g['cpus']}\t{g['numa']}\t\tN/A")
    for i, n in enumerate(nics):
        cells = [pcie(n, g) for g in gpus]
        cells += [" X " if m is n else pcie(n, m) for m in nics]
        out.append(f"NIC{i}\t" + "\t".join(cells) + "\t\t\t\t")
    out += [
        "",
        "Legend:",
        "",
        "  X    = Self",
        "  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes "
        "(e.g., QPI/UPI)",
        "  NODE = Connection traversing PCIe as well as the interconnect between PCIe Host Bridges "
        "within a NUMA node",
        "  PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)",
        "  PXB  = Connection traversing multiple PCIe bridges (without traversing the PCIe Host "
        "Bridge)",
        "  PIX  = Connection traversing at most a single PCIe bridge",
        "  NV#  = Connection traversing a bonded set of # NVLinks",
    ]
    if nics:
        out += ["", "NIC Legend:", ""] + [f"  NIC{i}: {n['name']}" for i, n in enumerate(nics)]
    return "\n".join(out) + "\n"
