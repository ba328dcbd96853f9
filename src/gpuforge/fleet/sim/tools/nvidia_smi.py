#!/usr/bin/python3 -S
"""Simulated `nvidia-smi`: reads and changes the node's simulated GPU state.

Exit codes as documented in nvidia-smi(1): 0 ok, 2 invalid argument, 3 not supported,
6 not found, 9 driver not loaded, 15 GPU fallen off the bus, 255 other error.
"""

from __future__ import annotations

import os
import time
import sys

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Json = dict[str, Any]

sys.path[:0] = [
    os.path.join(os.environ.get("GPUFORGE_SIM_ROOT", "/"), "usr/lib/gpuforge-sim"),
    os.path.dirname(os.path.abspath(__file__)),
]

if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import (
        simlib,
        smi_extra,
        smi_fields,
        smi_mig,
        smi_report,
        smi_xml,
    )
else:
    import simlib
    import smi_extra
    import smi_fields
    import smi_mig
    import smi_report
    import smi_xml

VALUED = {
    "-i": "id",
    "--id": "id",
    "-d": "display",
    "--display": "display",
    "-pm": "pm",
    "--persistence-mode": "pm",
    "-pl": "pl",
    "--power-limit": "pl",
    "-c": "c",
    "--compute-mode": "c",
    "-lgc": "lgc",
    "--lock-gpu-clocks": "lgc",
    "-ac": "ac",
    "--applications-clocks": "ac",
    "-mig": "mig",
    "--multi-instance-gpu": "mig",
    "--query-gpu": "query_gpu",
    "--query-compute-apps": "query_apps",
    "--format": "format",
    "-f": "file",
    "--filename": "file",
    "-l": "loop",
    "--loop": "loop",
    "-cgi": "cgi",
    "--create-gpu-instance": "cgi",
    "-cci": "cci",
    "--create-compute-instance": "cci",
    "-gi": "gi",
    "--gpu-instance-id": "gi",
    "-ci": "ci",
    "--compute-instance-id": "ci",
}
FLAGS = {
    "-L": "list",
    "--list-gpus": "list",
    "-q": "query",
    "--query": "query",
    "-a": "query",
    "-rgc": "rgc",
    "--reset-gpu-clocks": "rgc",
    "-rac": "rac",
    "--reset-applications-clocks": "rac",
    "-r": "reset",
    "--gpu-reset": "reset",
    "-h": "help",
    "--help": "help",
    "-m": "matrix",
    "--matrix": "matrix",
    "-C": "with_ci",
    "-lgip": "lgip",
    "--list-gpu-instance-profiles": "lgip",
    "-lgipp": "lgipp",
    "--list-gpu-instance-possible-placements": "lgipp",
    "-lgi": "lgi",
    "--list-gpu-instances": "lgi",
    "-lci": "lci",
    "--list-compute-instances": "lci",
    "-dgi": "dgi",
    "--destroy-gpu-instance": "dgi",
    "-dci": "dci",
    "--destroy-compute-instance": "dci",
    "-x": "xml",
    "--xml-format": "xml",
    "--version": "version",
    "-s": "status",
    "--status": "status",
}
BAD_ARGS = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n"
NO_DRIVER = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running.\n"
)
COMPUTE = {
    "0": "Default",
    "DEFAULT": "Default",
    "1": "Exclusive_Process",
    "EXCLUSIVE_PROCESS": "Exclusive_Process",
    "2": "Prohibited",
    "PROHIBITED": "Prohibited",
    "3": "Exclusive_Process",
}


def parse(argv: list[str]) -> dict[str, str]:
    """Parse nvidia-smi's options (`-i 0`, `-i=0`, `--id=0`) into a dict; exit 2 on junk."""
    opts: dict[str, str] = {}
    args = list(argv)
    while args:
        arg = args.pop(0)
        key, eq, val = arg.partition("=")
        if key in VALUED:
            if not eq:
                if not args:
                    simlib.die(BAD_ARGS, 2)
                val = args.pop(0)
            opts[VALUED[key]] = val
        elif arg in FLAGS:
            opts[FLAGS[arg]] = ""
        else:
            simlib.die(BAD_ARGS, 2)
    return opts


def lost_line(gpu: Json) -> str:
    """The driver's message for a GPU that fell off the bus."""
    bus = str(gpu["bus_id"])[4:]
    return f"Unable to determine the device handle for GPU{bus}: Unknown Error"


class Smi:
    """One nvidia-smi invocation: the node's hardware, state and the selected GPUs."""

    def __init__(self, opts: dict[str, str]) -> None:
        self.opts = opts
        self.hw = simlib.load_hardware()
        self.state = simlib.load_state()
        if not self.state.get("driver"):
            simlib.die(NO_DRIVER, 9)
        self.present = simlib.present_gpus(self.hw, self.state)
        if not self.present:
            simlib.die("No devices were found", 6)
        self.selected = self._select(opts.get("id"))
        self.lost = [g for g in self.selected if simlib.gpu_lost(self.state, g["phys"])]

    def _select(self, ident: str | None) -> list[Json]:
        if ident is None:
            return list(self.present)
        chosen = []
        for token in ident.split(","):
            token = token.strip()
            match = [
                g
                for g in self.present
                if token == str(g["index"])
                or token.upper() in (str(g["bus_id"]).upper(), str(g["bus_id"])[4:].upper())
                or token == g["uuid"]
            ]
            if not match:
                simlib.die("No devices were found", 6)
            chosen += match
        return chosen

    def ctx(self, gpu: Json) -> Json:
        """The evaluation context of one GPU for field getters and reports."""
        return {
            "gpu": gpu,
            "gs": self.state["gpus"][int(str(gpu["phys"]))],
            "state": self.state,
            "count": len(self.present),
            "profiles": self.hw.get("mig_profiles", []),
            "nvswitch": bool(self.hw.get("nvswitch")),
            "fabric_up": simlib.daemon_alive("nv-fabricmanager"),
        }

    def healthy(self) -> list[Json]:
        """Selected GPUs that answer; prints the driver's error line for each lost one."""
        for gpu in self.lost:
            print(lost_line(gpu))
        return [g for g in self.selected if g not in self.lost]

    def finish(self, code: int = 0) -> None:
        """Exit with 15 when a selected GPU fell off the bus, else `code`."""
        sys.stdout.flush()
        raise SystemExit(15 if self.lost and code == 0 else code)

    def head(self) -> dict[str, str]:
        """Driver and CUDA versions for report headers."""
        driver = self.state["driver"]
        return {"driver": str(driver["version"]), "cuda": str(driver["cuda"])}


def csv_query(smi: Smi, fields_arg: str, fmt: str) -> None:
    """--query-gpu=...: CSV rows, header with units, `[N/A]` where unsupported."""
    flags = {f.strip() for f in fmt.split(",")}
    if "csv" not in flags:
        simlib.die(BAD_ARGS, 2)
    names = [f.strip() for f in fields_arg.split(",") if f.strip()]
    for name in names:
        if smi_fields.resolve(name) is None:
            simlib.die(f'Field "{name}" is not a valid field to query.\n', 2)
    nounits = "nounits" in flags
    if "noheader" not in flags:
        print(", ".join(smi_fields.header(n, nounits) for n in names))
    for gpu in smi.selected:
        if gpu in smi.lost:
            print(lost_line(gpu))
            continue
        ctx = smi.ctx(gpu)
        print(", ".join(smi_fields.value(n, ctx, nounits) for n in names))
    smi.finish()


def apps_query(smi: Smi, fields_arg: str, fmt: str) -> None:
    """--query-compute-apps=...: one row per compute process on the selected GPUs (tools/gpu_app.py
    runs them), or only the header when none runs."""
    units = {"used_gpu_memory": "MiB", "used_memory": "MiB"}
    known = {"timestamp", "gpu_name", "gpu_bus_id", "gpu_serial", "gpu_uuid", "pid"}
    known |= {"process_name", "name"} | set(units)
    names = [f.strip() for f in fields_arg.split(",") if f.strip()]
    for name in names:
        if name not in known:
            simlib.die(f'Field "{name}" is not a valid field to query.\n', 2)
    if "noheader" not in fmt:
        print(", ".join(f"{n} [{units[n]}]" if n in units else n for n in names))
    gpus = {int(gpu["index"]): gpu for gpu in smi.selected if gpu not in smi.lost}
    for app in simlib.gpu_apps():
        gpu = gpus.get(int(app["gpu"]))
        if gpu is not None:
            print(", ".join(_app_value(n, app, gpu, "nounits" in fmt) for n in names))
    smi.finish()


def _app_value(name: str, app: Json, gpu: Json, nounits: bool) -> str:
    if name in ("used_gpu_memory", "used_memory"):
        return str(app["memory_mib"]) + ("" if nounits else " MiB")
    if name in ("process_name", "name"):
        return str(app["name"])
    if name == "pid":
        return str(app["pid"])
    if name == "gpu_bus_id":
        return str(gpu["bus_id"])
    if name == "gpu_uuid":
        return str(gpu["uuid"])
    if name == "gpu_name":
        return str(gpu["smi_name"])
    if name == "gpu_serial":
        return str(gpu.get("serial", "[N/A]"))
    return time.strftime("%Y/%m/%d %H:%M:%S.000")


def settings(smi: Smi) -> None:
    """-pm, -pl, -c, -lgc/-rgc, -ac/-rac, -mig, -r: change state, print what the driver prints."""
    opts = smi.opts
    gpus = smi.healthy()
    if smi.lost:
        print("Terminating early due to previous errors.")
        smi.finish()
    out: list[str] = []
    code = 0
    with simlib.edit_state() as state:
        smi.state = state
        for gpu in gpus:
            gs = state["gpus"][gpu["phys"]]
            bus = gpu["bus_id"]
            if "pm" in opts:
                want = opts["pm"] in ("1", "ENABLED")
                word = "Enabled" if want else "Disabled"
                if bool(gs["persistence"]) == want:
                    out.append(f"Persistence mode is already {word} for GPU {bus}.")
                else:
                    gs["persistence"] = want
                    out.append(f"{word} persistence mode for GPU {bus}.")
            if "pl" in opts:
                code = max(code, _power_limit(gpu, gs, opts["pl"], out))
            if "c" in opts:
                mode = COMPUTE.get(opts["c"].upper(), "")
                if not mode:
                    simlib.die(BAD_ARGS, 2)
                gs["compute_mode"] = mode
                out.append(f"Set compute mode to {mode.upper()} for GPU {bus}.")
            if "lgc" in opts:
                code = max(code, _lock_clocks(gpu, gs, opts["lgc"], out))
            if "rgc" in opts:
                gs["locked_clocks"] = None
            if "ac" in opts:
                code = max(code, _app_clocks(gpu, gs, opts["ac"], out))
            if "rac" in opts:
                gs["app_clocks"] = None
            if "mig" in opts:
                code = max(code, _mig_mode(gpu, gs, opts["mig"] in ("1", "ENABLED"), out))
            if "reset" in opts:
                _reset(state, gpu, gs)
                out.append(f"GPU {bus} was successfully reset.")
            if code:
                break
    print("\n".join(out))
    if code == 2:
        print("Terminating early due to previous errors.")
    else:
        print("All done.")
    smi.finish(code)


def _power_limit(gpu: Json, gs: Json, raw: str, out: list[str]) -> int:
    try:
        watts = float(raw)
    except ValueError:
        simlib.die(BAD_ARGS, 2)
    lo, hi = float(str(gpu["power_min_w"])), float(str(gpu["power_max_w"]))
    if not lo <= watts <= hi:
        out.append(
            f"Provided power limit {watts:.2f} W is not a valid power limit which should be "
            f"between {lo:.2f} W and {hi:.2f} W for GPU {gpu['bus_id']}"
        )
        return 2
    old = float(str(gs["power_limit_w"]))
    gs["power_limit_w"] = watts
    out.append(f"Power limit for GPU {gpu['bus_id']} was set to {watts:.2f} W from {old:.2f} W.")
    return 0


def _lock_clocks(gpu: Json, gs: Json, raw: str, out: list[str]) -> int:
    parts = raw.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        simlib.die(BAD_ARGS, 2)
    lo, hi = (int(p) for p in parts)
    if lo > hi:
        out.append(f"Invalid clock values: min {lo} is greater than max {hi}")
        return 2
    gs["locked_clocks"] = [lo, min(hi, int(str(gpu["clock_max_graphics"])))]
    out.append(f'GPU clocks set to "(gpuClkMin {lo}, gpuClkMax {hi})" for GPU {gpu["bus_id"]}')
    return 0


def _app_clocks(gpu: Json, gs: Json, raw: str, out: list[str]) -> int:
    parts = raw.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        simlib.die(BAD_ARGS, 2)
    mem, gfx = (int(p) for p in parts)
    if mem != int(str(gpu["clock_max_memory"])) or not 210 <= gfx <= int(
        str(gpu["clock_max_graphics"])
    ):
        out.append(
            f'Specified clock combination "(MEM {mem}, SM {gfx})" is not supported for GPU '
            f"{gpu['bus_id']}. Run 'nvidia-smi -q -d SUPPORTED_CLOCKS' to see list of supported "
            "clock combinations"
        )
        return 2
    gs["app_clocks"] = [mem, gfx]
    out.append(f'Applications clocks set to "(MEM {mem}, SM {gfx})" for GPU {gpu["bus_id"]}')
    return 0


def _mig_mode(gpu: Json, gs: Json, want: bool, out: list[str]) -> int:
    bus = gpu["bus_id"]
    verb = "enable" if want else "disable"
    if not gpu["mig"]:
        out.append(f"Unable to {verb} MIG Mode for GPU {bus}: Not Supported")
        out.append("Treating as warning and moving on.")
        return 3
    if not want and gs.get("gis"):
        out.append(f"Unable to disable MIG Mode for GPU {bus}: In use by another client")
        return 2
    gs["mig_pending"] = want
    if simlib.daemon_alive("nv-hostengine"):
        state_word = "enable" if want else "disable"
        out.append(
            f"Warning: MIG mode is in pending {state_word} state for GPU {bus}:"
            "In use by another client"
        )
        out.append(
            f"{bus} is currently being used by one or more other processes (e.g. CUDA "
            "application or a monitoring application such as another instance of nvidia-smi). "
            "Please first kill all processes using the device and retry the command or reboot "
            "the system to make MIG mode effective."
        )
        return 0
    gs["mig"] = want
    out.append(f"{'Enabled' if want else 'Disabled'} MIG Mode for GPU {bus}")
    return 0


def _reset(state: Json, gpu: Json, gs: Json) -> None:
    gs["mig"] = gs["mig_pending"]
    gs["gis"] = []
    gs["locked_clocks"] = None
    gs["app_clocks"] = None
    faults = state.get("faults", [])
    assert isinstance(faults, list)
    state["faults"] = [
        f
        for f in faults
        if not (
            f["name"] in ("xid", "ecc-uncorrectable")
            and int(f["params"].get("gpu", 0)) == gpu["phys"]
            and int(f["params"].get("code", 48)) in (48, 63)
        )
    ]


def mig(smi: Smi) -> None:
    """`nvidia-smi mig ...`: list profiles/placements/instances, create and destroy them."""
    opts = smi.opts
    gpus = [g for g in smi.healthy() if smi.state["gpus"][g["phys"]]["mig"]]
    if not gpus:
        simlib.die("No MIG-enabled devices found.", 6)
    profiles = smi.hw.get("mig_profiles", [])
    if "lgip" in opts:
        rows = [
            (g["index"], p, smi.state["gpus"][g["phys"]]["gis"]) for g in gpus for p in profiles
        ]
        sys.stdout.write(smi_mig.lgip(rows))
    elif "lgipp" in opts:
        sys.stdout.write(smi_mig.lgipp([(g["index"], p) for g in gpus for p in profiles]))
    elif "lgi" in opts:
        gi_rows = [(g["index"], gi) for g in gpus for gi in smi.state["gpus"][g["phys"]]["gis"]]
        if not gi_rows:
            simlib.die("No GPU instances found: Not Found", 6)
        sys.stdout.write(smi_mig.lgi(gi_rows))
    elif "lci" in opts:
        rows3 = [
            (g["index"], gi, ci)
            for g in gpus
            for gi in smi.state["gpus"][g["phys"]]["gis"]
            for ci in gi["cis"]
        ]
        if not rows3:
            simlib.die("No compute instances found: Not Found", 6)
        sys.stdout.write(smi_mig.lci(rows3))
    elif "cgi" in opts:
        _create(gpus, profiles, opts["cgi"], "with_ci" in opts)
    elif "cci" in opts:
        _create_ci(gpus, opts)
    elif "dci" in opts:
        _destroy_ci(gpus, opts)
    elif "dgi" in opts:
        _destroy_gi(gpus, opts)
    else:
        simlib.die(BAD_ARGS, 2)
    smi.finish()


def _create(gpus: list[Json], profiles: list[Json], spec: str, with_ci: bool) -> None:
    wanted = []
    for token in spec.split(","):
        prof = smi_mig.find_profile(profiles, token)
        if prof is None:
            simlib.die(f"Unable to find a GPU instance profile matching {token.strip()}", 2)
        wanted.append(prof)
    with simlib.edit_state() as state:
        for gpu in gpus:
            gis = state["gpus"][gpu["phys"]]["gis"]
            for prof in wanted:
                gi = smi_mig.create_gi(prof, gis)
                if gi is None:
                    print(
                        f"Unable to create a GPU instance on GPU {gpu['index']:>2} using profile "
                        f"{prof['id']}: Insufficient Resources"
                    )
                    print("Failed to create GPU instances: Insufficient Resources")
                    raise SystemExit(255)
                print(
                    f"Successfully created GPU instance ID {gi['id']:>2} on GPU {gpu['index']:>2}"
                    f" using profile MIG {prof['name']} (ID {prof['id']:>2})"
                )
                if with_ci:
                    ci = smi_mig.create_ci(gi)
                    print(_ci_line(gpu, gi, ci))


def _ci_line(gpu: Json, gi: Json, ci: Json) -> str:
    return (
        f"Successfully created compute instance ID {ci['id']:>2} on GPU {gpu['index']:>2} GPU "
        f"instance ID {gi['id']:>2} using profile MIG {gi['name']} (ID {ci['profile_id']:>2})"
    )


def _gi_filter(opts: dict[str, str]) -> set[int] | None:
    if "gi" not in opts:
        return None
    return {int(x) for x in opts["gi"].split(",")}


def _create_ci(gpus: list[Json], opts: dict[str, str]) -> None:
    only = _gi_filter(opts)
    with simlib.edit_state() as state:
        for gpu in gpus:
            for gi in state["gpus"][gpu["phys"]]["gis"]:
                if only is None or gi["id"] in only:
                    if gi["cis"]:
                        print(
                            f"Unable to create a compute instance on GPU {gpu['index']:>2} GPU "
                            f"instance ID {gi['id']:>2}: Insufficient Resources"
                        )
                        raise SystemExit(255)
                    print(_ci_line(gpu, gi, smi_mig.create_ci(gi)))


def _destroy_ci(gpus: list[Json], opts: dict[str, str]) -> None:
    only = _gi_filter(opts)
    cis = {int(x) for x in opts["ci"].split(",")} if "ci" in opts else None
    done = 0
    with simlib.edit_state() as state:
        for gpu in gpus:
            for gi in state["gpus"][gpu["phys"]]["gis"]:
                if only is not None and gi["id"] not in only:
                    continue
                for ci in list(gi["cis"]):
                    if cis is None or ci["id"] in cis:
                        gi["cis"].remove(ci)
                        done += 1
                        print(
                            f"Successfully destroyed compute instance ID {ci['id']:>2} from GPU "
                            f"{gpu['index']:>2} GPU instance ID {gi['id']:>2}"
                        )
    if not done:
        simlib.die("No compute instances found: Not Found", 6)


def _destroy_gi(gpus: list[Json], opts: dict[str, str]) -> None:
    only = _gi_filter(opts)
    done = 0
    with simlib.edit_state() as state:
        for gpu in gpus:
            gis = state["gpus"][gpu["phys"]]["gis"]
            for gi in list(gis):
                if only is not None and gi["id"] not in only:
                    continue
                if gi["cis"]:
                    print(
                        f"Unable to destroy GPU instance ID {gi['id']:>2} from GPU "
                        f"{gpu['index']:>2}: In use by another client"
                    )
                    print("Failed to destroy GPU instances: In use by another client")
                    raise SystemExit(255)
                gis.remove(gi)
                done += 1
                print(
                    f"Successfully destroyed GPU instance ID {gi['id']:>2} from GPU "
                    f"{gpu['index']:>2}"
                )
    if not done:
        simlib.die("No GPU instances found: Not Found", 6)


def monitor(sub: str, argv: list[str]) -> None:
    """`dmon`/`pmon [-i ID] [-c COUNT] [-d SECONDS]`: samples until COUNT (forever without)."""
    opts: dict[str, str] = {}
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg not in ("-i", "--id", "-c", "--count", "-d", "--delay") or not args:
            simlib.die(BAD_ARGS, 2)
        opts[arg.lstrip("-")[0]] = args.pop(0)
    if not all(v.isdigit() for k, v in opts.items() if k in "cd"):
        simlib.die(BAD_ARGS, 2)
    smi = Smi({"id": opts["i"]} if "i" in opts else {})
    ctxs = [smi.ctx(g) for g in smi.healthy()]
    count, delay = int(opts.get("c", "0")), float(opts.get("d", "1"))
    (smi_extra.dmon if sub == "dmon" else smi_extra.pmon)(ctxs, count, delay)
    smi.finish()


def main(argv: list[str]) -> None:
    """Dispatch one nvidia-smi command line."""
    sub = argv[0] if argv and argv[0] in ("topo", "mig", "nvlink", "dmon", "pmon") else ""
    if sub in ("dmon", "pmon"):
        monitor(sub, argv[1:])
    opts = parse(argv[1:] if sub else argv)
    if "help" in opts:
        simlib.die("NVIDIA System Management Interface -- v" + "simulated", 0)
    smi = Smi(opts)
    if "version" in opts:
        sys.stdout.write(smi_extra.version(smi.head()))
        smi.finish()
    if sub == "nvlink":
        if "status" not in opts:
            simlib.die(BAD_ARGS, 2)
        down = simlib.nvlink_down(smi.state)
        ctxs = [smi.ctx(g) for g in smi.healthy()]
        sys.stdout.write(smi_extra.nvlink_status(smi.hw, ctxs, down))
        smi.finish()
    if sub == "mig":
        mig(smi)
    if sub == "topo":
        if "matrix" not in opts:
            simlib.die(BAD_ARGS, 2)
        down = simlib.nvlink_down(smi.state)
        ctxs = [smi.ctx(g) for g in smi.healthy()]
        sys.stdout.write(smi_report.topo(smi.hw, ctxs, down))
        smi.finish()
    if "query_gpu" in opts:
        csv_query(smi, opts["query_gpu"], opts.get("format", ""))
    if "query_apps" in opts:
        apps_query(smi, opts["query_apps"], opts.get("format", ""))
    changes = {"pm", "pl", "c", "lgc", "rgc", "ac", "rac", "mig", "reset"}
    if changes & opts.keys():
        settings(smi)
    ctxs = [smi.ctx(g) for g in smi.healthy()]
    if "list" in opts:
        sys.stdout.write(smi_report.list_gpus(ctxs))
    elif "query" in opts:
        displays = {d.strip().upper() for d in opts.get("display", "").split(",") if d.strip()}
        if displays - smi_report.DISPLAYS:
            simlib.die(BAD_ARGS, 2)
        if "ROW_REMAPPER" in displays:
            displays.add("PAGE_RETIREMENT")
        report = smi_report.query(smi.head(), ctxs, displays)
        sys.stdout.write(smi_xml.document(report) if "xml" in opts else report)
    else:
        sys.stdout.write(smi_report.table(smi.head(), ctxs))
    smi.finish()


if __name__ == "__main__":
    main(sys.argv[1:])
