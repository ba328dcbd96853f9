"""Parser for `nvidia-smi topo -m`: the link matrix between GPUs and NICs, and CPU/NUMA affinity.

Handles tab- and space-separated layouts, NIC columns named `NIC#` (with a NIC legend) or directly
`mlx5_#`, the oldest `SOC` legend, empty affinity cells, ANSI-underlined headers, and the whole
matrix indented (as tools that embed it print it). Lines it cannot place are returned quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gpuforge.validate._text import lines_of, strip_ansi, unplaced

_AFFINITY_WORDS = ("CPU", "NUMA", "GPU NUMA")
_LEGEND_NIC = re.compile(r"^\s*(?P<alias>NIC\d+):\s*(?P<name>\S+)\s*$")
_NVLINK = re.compile(r"^NV(?P<count>\d+)$")
_LEGEND = re.compile(r"^(?:(?:NIC )?Legend:|\S+\s+=\s.*)$")


@dataclass(frozen=True)
class Topology:
    """Link kinds between devices (`X`, `NV18`, `PIX`, `SYS`, ...) by row, then column name."""

    devices: tuple[str, ...]
    links: dict[str, dict[str, str]]
    cpu_affinity: dict[str, str] = field(default_factory=dict)
    numa_affinity: dict[str, str] = field(default_factory=dict)
    nic_names: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()

    @property
    def gpus(self) -> tuple[str, ...]:
        """The GPU device names (`GPU0`, `GPU1`, ...) in column order."""
        return tuple(d for d in self.devices if re.fullmatch(r"GPU\d+", d))

    def link(self, a: str, b: str) -> str | None:
        """The link kind between two devices, or None when the matrix lacks that cell."""
        return self.links.get(a, {}).get(b)

    def nvlinks(self, a: str, b: str) -> int:
        """How many bonded NVLinks join two devices (0 when they talk over PCIe only)."""
        match = _NVLINK.match(self.link(a, b) or "")
        return int(match.group("count")) if match else 0


def _header_devices(line: str) -> list[str]:
    tokens = [t.strip() for t in re.split(r"\t|\s{2,}|\s(?=GPU\d|NIC\d|mlx)", line.strip())]
    devices = []
    for token in tokens:
        if not token:
            continue
        if token.startswith(_AFFINITY_WORDS):
            break
        devices.append(token)
    return devices


def _affinity_count(line: str) -> int:
    return sum(line.count(word) for word in ("CPU Affinity", "NUMA Affinity", "GPU NUMA ID"))


def parse_topo(text: str) -> Topology:
    """Read the `topo -m` matrix; rows it cannot align with the header are reported as warnings."""
    lines = [strip_ansi(line) for line in lines_of(text)]
    header_at = next((i for i, line in enumerate(lines) if re.search(r"\bGPU0\b", line)), None)
    if header_at is None:
        shown = tuple(unplaced(n, line) for n, line in enumerate(lines, 1) if line.strip())
        return Topology((), {}, warnings=("no header row naming GPU0 found",), unplaced=shown)
    devices = _header_devices(lines[header_at])
    extra_columns = _affinity_count(lines[header_at])
    links: dict[str, dict[str, str]] = {}
    cpu: dict[str, str] = {}
    numa: dict[str, str] = {}
    nics: dict[str, str] = {}
    warnings: list[str] = []
    lost = [unplaced(n, line) for n, line in enumerate(lines[:header_at], 1) if line.strip()]
    for number_, line in enumerate(lines[header_at + 1 :], start=header_at + 2):
        legend = _LEGEND_NIC.match(line)
        if legend:
            nics[legend.group("alias")] = legend.group("name")
            continue
        stripped = line.strip()
        if not stripped:
            continue
        cells = [c.strip() for c in stripped.split("\t")] if "\t" in stripped else stripped.split()
        name = cells[0]
        if name not in devices:
            if not _LEGEND.match(stripped):
                lost.append(unplaced(number_, line))
            continue
        values = cells[1 : 1 + len(devices)]
        if len(values) < len(devices):
            warnings.append(f"line {number_}: row {name} has {len(values)} of {len(devices)} cells")
        links[name] = dict(zip(devices, values, strict=False))
        rest = cells[1 + len(devices) :]
        if extra_columns and rest and rest[0]:
            cpu[name] = rest[0]
        if extra_columns > 1 and len(rest) > 1 and rest[1]:
            numa[name] = rest[1]
    return Topology(tuple(devices), links, cpu, numa, nics, tuple(warnings), tuple(lost))
