"""Parser for `nvidia-smi --query-compute-apps=... --format=csv`: the processes on each GPU.

Reads any field order the header names (`pid`, `process_name`, `used_gpu_memory [MiB]` or
`used_memory`, `gpu_uuid`, `gpu_bus_id`); `No running processes found` is an empty list. A
process name's own commas stay in it (nvidia-smi does not quote). Rows of another shape are
returned quoted in `unplaced`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from gpuforge.validate._text import bus_key, integer, lines_of, number, unplaced, value

_NONE = "no running processes found"
_HEADER_CELL = re.compile(r"^[a-z_.]+(?: \[[^\]]*\])?$")


@dataclass(frozen=True)
class GpuApp:
    """One compute process: its PID, name, GPU memory in MiB, the GPU's bus id and UUID, and
    the user it runs as (None when not known)."""

    pid: int
    name: str
    used_mib: float | None = None
    gpu_bus: str | None = None
    gpu_uuid: str | None = None
    user: str | None = None


@dataclass(frozen=True)
class ComputeApps:
    """Every process the query listed, and the lines it could not place."""

    apps: tuple[GpuApp, ...]
    warnings: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()


def _field(cell: str) -> str:
    return cell.split("[", 1)[0].strip().lower()


def _cells(line: str, fields: list[str]) -> list[str]:
    """The line's cells; nvidia-smi does not quote, so where there are more cells than fields
    the extra commas are the process name's own (no other field can hold one)."""
    raw = line.split(",")
    extra = len(raw) - len(fields)
    if fields and extra > 0 and "process_name" in fields:
        at = fields.index("process_name")
        raw[at : at + extra + 1] = [",".join(raw[at : at + extra + 1])]
    return [c.strip() for c in raw]


def parse_compute_apps(text: str) -> ComputeApps:
    """Read `--query-compute-apps` CSV output (with its header line) into processes."""
    fields: list[str] = []
    apps: list[GpuApp] = []
    lost: list[str] = []
    for number_, line in enumerate(lines_of(text), start=1):
        stripped = line.strip()
        if not stripped or stripped.lower().strip(".") == _NONE:
            continue
        cells = _cells(stripped, fields)
        is_header = len(cells) > 1 and all(_HEADER_CELL.match(c) for c in cells)
        if not fields and is_header and "pid" in {_field(c) for c in cells}:
            fields = [_field(c) for c in cells]
            continue
        row = dict(zip(fields, cells, strict=False))
        pid = integer(row.get("pid"))
        if len(cells) != len(fields) or pid is None:
            lost.append(unplaced(number_, line))
            continue
        apps.append(
            GpuApp(
                pid,
                value(row.get("process_name")) or "?",
                number(row.get("used_gpu_memory", row.get("used_memory"))),
                bus_key(row.get("gpu_bus_id")),
                value(row.get("gpu_uuid")),
            )
        )
    warnings = () if fields or not lost else ("no header line naming pid found",)
    return ComputeApps(tuple(apps), warnings, tuple(lost))


def parse_owners(text: str) -> dict[int, str]:
    """Read `ps -e -o pid=,user:32=` output into PID -> user; other lines are skipped."""
    owners = {}
    for line in lines_of(text):
        cells = line.split()
        if len(cells) == 2 and cells[0].isdigit():
            owners[int(cells[0])] = cells[1]
    return owners


def busy_outside_jobs(text: str) -> int | None:
    """The GPU watch's count of GPUs busy outside jobs (`gpuforge_gpu_busy_outside_jobs N`)."""
    for line in lines_of(text):
        name, _, count = line.partition(" ")
        if name == "gpuforge_gpu_busy_outside_jobs":
            return integer(count.strip())
    return None


def with_owners(apps: tuple[GpuApp, ...], owners: dict[int, str]) -> tuple[GpuApp, ...]:
    """The processes with the user each runs as, where `owners` knows its PID."""
    return tuple(replace(app, user=owners.get(app.pid, app.user)) for app in apps)
