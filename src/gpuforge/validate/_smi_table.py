"""Parser for plain `nvidia-smi` (the boxed table): GPUs, MIG devices and processes.

Both the pre-R530 79-column and the newer 89-column layouts are read; long names come back as
nvidia-smi truncated them (`NVIDIA GeForce ...`). Lines outside the boxes other than the
timestamp nvidia-smi prints above them are returned quoted in `unplaced`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gpuforge.validate._gpu import GpuFacts, compute_mode_name, enabled
from gpuforge.validate._text import integer, lines_of, number, unplaced, value

_BANNER = re.compile(
    r"NVIDIA-SMI\s+(?P<smi>\S+)\s+(?:Driver|KMD) Version:\s+(?P<driver>\S+)\s+"
    r"CUDA(?: UMD)? Version:\s+(?P<cuda>\S+)"
)
_GPU_ROW = re.compile(r"^\s*(?P<index>\d+)\s+(?P<name>.*?)\s+(?P<mode>On|Off|WDDM|TCC|N/A)\s*$")
_BUS_CELL = re.compile(
    r"^\s*(?P<bus>[0-9A-Fa-f]+:[0-9A-Fa-f]+:[0-9A-Fa-f]+\.[0-7])\s+(?P<disp>\S+)\s*$"
)
_STATE_CELL = re.compile(
    r"^\s*(?P<fan>\S+)\s+(?P<temp>\S+)\s+(?P<perf>\S+)\s+(?P<draw>\S+)\s*/\s*(?P<cap>\S+)\s*$"
)
_TIMESTAMP = re.compile(r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} +\d+ [\d:]{8} \d{4}$")
_MEMORY = re.compile(r"(?P<used>\d+)MiB\s*/\s*(?P<total>\d+)MiB")
_UTIL_CELL = re.compile(r"^\s*(?P<util>\S+)\s+(?P<mode>.+?)\s*$")
_MIG_ROW = re.compile(r"^\s*(?P<gpu>\d+)\s+(?P<gi>\d+)\s+(?P<ci>\d+)\s+(?P<dev>\d+)\s*$")
_PROCESS_ROW = re.compile(
    r"^\s*(?P<gpu>\d+)\s+(?P<gi>\S+)\s+(?P<ci>\S+)\s+(?P<pid>\d+)\s+(?P<type>\S+)\s+"
    r"(?P<name>.*?)\s+(?P<mem>\S+)\s*$"
)


@dataclass(frozen=True)
class MigDevice:
    """One row of the `MIG devices:` box: GPU, GPU instance, compute instance, memory in MiB."""

    gpu: int
    gpu_instance: int
    compute_instance: int
    device: int
    memory_used_mib: int | None
    memory_total_mib: int | None


@dataclass(frozen=True)
class GpuProcess:
    """One row of the `Processes:` box."""

    gpu: int
    pid: int
    type: str
    name: str
    memory_mib: int | None


@dataclass(frozen=True)
class SmiTable:
    """Everything the default nvidia-smi view shows, with `GpuFacts` for the GPU rows."""

    driver_version: str | None
    cuda_version: str | None
    gpus: tuple[GpuFacts, ...]
    mig_devices: tuple[MigDevice, ...]
    processes: tuple[GpuProcess, ...]
    warnings: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()


def _cells(line: str) -> list[str]:
    body = line.strip()
    if not body.startswith("|"):
        return []
    return body.strip("|").split("|")


def _gpu_from_rows(
    first: list[str], second: list[str], third: list[str], driver: str | None
) -> GpuFacts | None:
    head = _GPU_ROW.match(first[0])
    if head is None:
        return None
    bus = _BUS_CELL.match(first[1]) if len(first) > 1 else None
    state = _STATE_CELL.match(second[0]) if second else None
    memory = _MEMORY.search(second[1]) if len(second) > 1 else None
    util = _UTIL_CELL.match(second[2]) if len(second) > 2 else None
    ecc = first[2] if len(first) > 2 else None
    return GpuFacts(
        index=int(head.group("index")),
        name=head.group("name"),
        bus_id=bus.group("bus") if bus else None,
        driver=driver,
        memory_mib=int(memory.group("total")) if memory else None,
        persistence=enabled(head.group("mode")),
        compute_mode=compute_mode_name(value(util.group("mode"))) if util else None,
        power_limit_w=number(state.group("cap")) if state else None,
        ecc_uncorrected_volatile=integer(ecc),
        mig_mode=enabled(value(third[-1])) if third else None,
        temperature_c=number(state.group("temp")) if state else None,
    )


def parse_smi_table(text: str) -> SmiTable:
    """Read the default nvidia-smi table (any layout since R450) into typed facts."""
    lines = lines_of(text)
    driver = cuda = None
    gpus: list[GpuFacts] = []
    migs: list[MigDevice] = []
    processes: list[GpuProcess] = []
    warnings: list[str] = []
    lost: list[str] = []
    section = "gpus"
    for position, line in enumerate(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith(("|", "+")) and not _TIMESTAMP.match(stripped):
            lost.append(unplaced(position + 1, line))
            continue
        banner = _BANNER.search(line)
        if banner:
            driver, cuda = banner.group("driver"), banner.group("cuda")
            continue
        if "MIG devices:" in line:
            section = "mig"
            continue
        if "Processes:" in line:
            section = "processes"
            continue
        cells = _cells(line)
        if not cells:
            continue
        if section == "gpus" and _GPU_ROW.match(cells[0]):
            following = [
                _cells(lines[i]) if i < len(lines) else [] for i in (position + 1, position + 2)
            ]
            gpu = _gpu_from_rows(cells, following[0], following[1], driver)
            if gpu is not None:
                gpus.append(gpu)
        elif section == "mig" and (row := _MIG_ROW.match(cells[0])):
            memory = _MEMORY.search(cells[1]) if len(cells) > 1 else None
            migs.append(
                MigDevice(
                    int(row.group("gpu")),
                    int(row.group("gi")),
                    int(row.group("ci")),
                    int(row.group("dev")),
                    int(memory.group("used")) if memory else None,
                    int(memory.group("total")) if memory else None,
                )
            )
        elif section == "processes" and (proc := _PROCESS_ROW.match(cells[0])):
            processes.append(
                GpuProcess(
                    int(proc.group("gpu")),
                    int(proc.group("pid")),
                    proc.group("type"),
                    proc.group("name"),
                    integer(proc.group("mem")),
                )
            )
    if driver is None:
        warnings.append("no 'NVIDIA-SMI ... Driver Version' banner found")
    if not gpus:
        warnings.append("no GPU rows found")
    return SmiTable(
        driver, cuda, tuple(gpus), tuple(migs), tuple(processes), tuple(warnings), tuple(lost)
    )
