#!/usr/bin/python3 -S
"""Simulated `dcgmi` (DCGM 3.x): `diag -r 1|2|3|4` and `discovery -l`, real table layouts.

A test fails where the real one would: row remap / uncorrectable ECC (Page Retirement/Row
Remap, GPU Memory), NVLink down (PCIe), thermal throttling (stress tests), a lost GPU (NVML),
NVSwitch systems without a running fabric manager (CUDA tests: cuInit fails).
"""

from __future__ import annotations

import json
import os
import sys

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False

sys.path[:0] = [
    os.path.join(os.environ.get("GPUFORGE_SIM_ROOT", "/"), "usr/lib/gpuforge-sim"),
    os.path.dirname(os.path.abspath(__file__)),
]

if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import simlib
else:
    import simlib

NO_ENGINE = (
    "Error: unable to establish a connection to the specified host: localhost\n"
    "Error: Unable to connect to host engine. Host engine connection invalid/disconnected.\n"
)
BORDER = "+---------------------------+------------------------------------------------+"
DEPLOYMENT = [
    "Denylist",
    "NVML Library",
    "CUDA Main Library",
    "Permissions and OS Blocks",
    "Persistence Mode",
    "Environment Variables",
    "Page Retirement/Row Remap",
    "Graphics Processes",
    "Inforom",
]
CUINIT = (
    "GPU {i} Error using CUDA API cuInit Check DCGM and system logs for errors. Reset GPU. "
    "Restart DCGM. Rerun diagnostics. Unable to initialize CUDA library: 'system not yet "
    "initialized'. . Please check if a CUDA sample program can be run successfully on this "
    "host. Refer to https://github.com/nvidia/cuda-samples"
)


def _wrap(name: str, text: str) -> list[str]:
    chunks = [text[i : i + 46] for i in range(0, len(text), 46)] or [""]
    rows = [f"| {name:<25} | {chunks[0]:<46} |"]
    rows += [f"| {'':<25} | {c:<46} |" for c in chunks[1:]]
    return rows


def _category(name: str, edge: str) -> str:
    right = "|" if edge == "|" else "+"
    return f"{edge}{('-----  ' + name + '  ').ljust(27, '-')}+{'-' * 48}{right}"


def _result(status: dict[int, str]) -> list[str]:
    groups: dict[str, list[int]] = {}
    for gpu, word in sorted(status.items()):
        groups.setdefault(word, []).append(gpu)
    if len(groups) == 1:
        return [f"{next(iter(groups))} - All"]
    out = []
    for word in ("Pass", "Skip", "Warn", "Fail"):
        ids = groups.get(word)
        if ids:
            label = "GPU" if len(ids) == 1 else "GPUs"
            out.append(f"{word} - {label}: {', '.join(str(i) for i in ids)}")
    return out


class Diag:
    """One diagnostic run over the node's present GPUs."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.hw = simlib.load_hardware()
        self.state = simlib.load_state()
        self.gpus = simlib.present_gpus(self.hw, self.state)
        self.failed = False
        fm_needed = bool(self.hw.get("nvswitch")) and len(self.gpus) > 1
        self.cuda_ok = not fm_needed or simlib.daemon_alive("nv-fabricmanager")
        # The same results for `-j`: [{"category": ..., "tests": [{"name", "results"}]}].
        self.categories: list[dict[str, object]] = []

    def _record(self, test: str, results: list[dict[str, object]]) -> None:
        tests = self.categories[-1]["tests"]
        assert isinstance(tests, list)
        tests.append({"name": test, "results": results})

    def _category(self, name: str, edge: str) -> str:
        self.categories.append({"category": name, "tests": []})
        return _category(name, edge)

    def _fault(self, name: str, gpu: dict[str, object]) -> dict[str, object] | None:
        return simlib.gpu_fault(self.state, name, int(str(gpu["phys"])))

    def _remap(self, gpu: dict[str, object]) -> bool:
        xid = self._fault("xid", gpu)
        return bool(self._fault("ecc-uncorrectable", gpu)) or bool(
            xid and int(str(xid.get("code", 0))) in (48, 63)
        )

    def deployment(self) -> list[str]:
        """The software/deployment tests every level runs."""
        rows = [self._category("Deployment", "|")]
        for test in DEPLOYMENT:
            warnings: list[str] = []
            if test == "NVML Library":
                warnings = [
                    f"GPU {g['index']} Error using NVML API nvmlDeviceGetHandleByIndex_v2:"
                    " GPU is lost"
                    for g in self.gpus
                    if simlib.gpu_lost(self.state, int(str(g["phys"])))
                ]
            if test == "Page Retirement/Row Remap":
                warnings = [
                    f"GPU {g['index']} had uncorrectable memory errors and row remapping "
                    "is pending. Reset the GPU to activate the remapped rows."
                    for g in self.gpus
                    if self._remap(g)
                ]
            if warnings:
                self.failed = True
                rows += _wrap(test, "Fail")
                for text in warnings:
                    rows += _wrap("Warning", text)
                self._record(
                    test, [{"status": "Fail", "warnings": [{"warning": w} for w in warnings]}]
                )
                continue
            rows += _wrap(test, "Pass")
            result: dict[str, object] = {"status": "Pass"}
            if test == "Persistence Mode":
                off = [g for g in self.gpus if not self.state["gpus"][g["phys"]]["persistence"]]
                if off:
                    text = ",".join(
                        f"Persistence mode for GPU {g['index']} is disabled. Enable persistence "
                        'mode by running "nvidia-smi -i <gpuId> -pm 1 " as root.'
                        for g in off
                    )
                    rows += _wrap("Info", text)
                    result["info"] = [text]
            self._record(test, [result])
        return rows

    def _per_gpu(self, test: str, check: str) -> list[str]:
        status: dict[int, str] = {}
        warnings: list[str] = []
        results: list[dict[str, object]] = []
        for g in self.gpus:
            index = int(str(g["index"]))
            problem = ""
            if simlib.gpu_lost(self.state, int(str(g["phys"]))):
                status[index] = "Skip"
            elif not self.cuda_ok:
                status[index] = "Fail"
                problem = CUINIT.format(i=index)
            else:
                problem = self._problem(check, g)
                status[index] = "Fail" if problem else "Pass"
            if problem:
                warnings.append(problem)
            result: dict[str, object] = {"gpu_id": str(index), "status": status[index]}
            if problem:
                result["warnings"] = [{"warning": problem}]
            results.append(result)
        self._record(test, results)
        if "Fail" in status.values():
            self.failed = True
        lines = _result(status)
        rows = _wrap(test, lines[0])
        for extra in lines[1:]:
            rows += _wrap("", extra)
        for text in warnings:
            rows += _wrap("Warning", text)
        return rows

    def _problem(self, check: str, g: dict[str, object]) -> str:
        i = g["index"]
        if check == "nvlink" and self._fault("nvlink-down", g):
            return (
                f"GPU {i}'s NvLink link 0 is currently down Check DCGM and system logs for "
                "errors. Reset GPU. Restart DCGM. Rerun diagnostics."
            )
        if check == "memory" and self._remap(g):
            return (
                f"GPU {i} has uncorrectable memory errors: a double-bit ECC error was detected. "
                "Drain the GPU and reset it or reboot the node."
            )
        if check == "thermal" and self._fault("thermal-throttle", g):
            return (
                f"Thermal violations totaling 12.6 seconds started at 3.1 seconds into the test "
                f"for GPU {i} Verify that the cooling on this machine is functional, including "
                "external, thermal material interface, fans, and any other components."
            )
        return ""

    def report(self) -> str:
        """The full `Successfully ran diagnostic for group.` table."""
        driver = self.state["driver"]
        dcgm = self.state.get("software", {}).get("dcgm", {}).get("version", "3.3.8")
        ids = ",".join(str(g["pci_device_id"])[2:6].lower() for g in self.gpus)
        rows = [
            "Successfully ran diagnostic for group.",
            BORDER,
            "| Diagnostic                | Result                                         |",
            "+===========================+================================================+",
            self._category("Metadata", "|"),
        ]
        rows += _wrap("DCGM Version", dcgm.split(":")[-1])
        rows += _wrap("Driver Version Detected", str(driver["version"]))
        rows += _wrap("GPU Device IDs Detected", ids)
        rows += self.deployment()
        if self.level >= 2:
            rows.append(self._category("Integration", "+"))
            rows += self._per_gpu("PCIe", "nvlink")
            rows.append(self._category("Hardware", "+"))
            rows += self._per_gpu("GPU Memory", "memory")
        if self.level >= 3:
            rows += self._per_gpu("Diagnostic", "thermal")
            rows.append(self._category("Stress", "+"))
            rows += self._per_gpu("Targeted Stress", "thermal")
            rows += self._per_gpu("Targeted Power", "thermal")
            rows += self._per_gpu("Memory Bandwidth", "memory")
        if self.level >= 4:
            rows += self._per_gpu("Memtest", "memory")
            rows += self._per_gpu("Pulse Test", "thermal")
        rows.append(BORDER)
        return "\n".join(rows) + "\n"

    def as_json(self) -> dict[str, object]:
        """`dcgmi diag -j`: DCGM's JSON document of the run (call after `report`)."""
        driver = self.state["driver"]
        dcgm = self.state.get("software", {}).get("dcgm", {}).get("version", "3.3.8")
        categories = [c for c in self.categories if c["category"] != "Metadata"]
        return {
            "DCGM GPU Diagnostic": {"test_categories": categories},
            "Driver Version Detected": str(driver["version"]),
            "GPU Device IDs": [str(g["pci_device_id"])[2:6].lower() for g in self.gpus],
            "version": dcgm.split(":")[-1],
        }


def discovery() -> str:
    """`dcgmi discovery -l`: the GPUs (and no NVSwitches) DCGM sees."""
    hw, state = simlib.load_hardware(), simlib.load_state()
    gpus = [g for g in simlib.present_gpus(hw, state) if not simlib.gpu_lost(state, g["phys"])]
    line = "+--------+----------------------------------------------------------------------+"
    out = [f"{len(gpus)} GPU{'s' if len(gpus) != 1 else ''} found.", line]
    out += [
        "| GPU ID | Device Information                                                   |",
        line,
    ]
    for g in gpus:
        out += [
            f"| {g['index']:<6} | {'Name: ' + g['smi_name']:<68} |",
            f"|        | {'PCI Bus ID: ' + g['bus_id']:<68} |",
            f"|        | {'Device UUID: ' + g['uuid']:<68} |",
            line,
        ]
    out += [
        "0 NvSwitches found.",
        "+-----------+",
        "| Switch ID |",
        "+-----------+",
        "+-----------+",
    ]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> None:
    """Dispatch `dcgmi diag` and `dcgmi discovery`."""
    state = simlib.load_state()
    if not state.get("driver") or not simlib.daemon_alive("nv-hostengine"):
        simlib.die(NO_ENGINE, 255, sys.stderr)
    if argv[:1] == ["discovery"] and ("-l" in argv or "--list" in argv):
        sys.stdout.write(discovery())
        return
    if argv[:1] != ["diag"]:
        simlib.die("ERROR: Invalid subsystem. Run 'dcgmi --help' for usage.", 255, sys.stderr)
    level = 0
    args = argv[1:]
    for i, arg in enumerate(args):
        key, eq, val = arg.partition("=")
        if key in ("-r", "--run"):
            val = val if eq else (args[i + 1] if i + 1 < len(args) else "")
            level = {"short": 1, "medium": 2, "long": 3, "xlong": 4}.get(val, 0) or (
                int(val) if val.isdigit() else 0
            )
    if level not in (1, 2, 3, 4):
        simlib.die(
            "Error: Invalid parameter for run option: must be 1, 2, 3 or 4.", 255, sys.stderr
        )
    diag = Diag(level)
    table = diag.report()
    if "-j" in args or "--json" in args:
        sys.stdout.write(json.dumps(diag.as_json(), indent=4) + "\n")
    else:
        sys.stdout.write(table)
    raise SystemExit(226 if diag.failed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
