"""Parser for `nvidia-smi -q` (and `-q -d POWER,...`): an indented key/value tree per GPU.

Section and key names moved between driver releases (`Clocks Throttle Reasons` became
`Clocks Event Reasons`, `Power Readings` became `GPU Power Readings`, power limits moved under
`GPU Ceiling Power Limit` in R610); each fact is looked up under every name it has had. A line
with no ` : ` that heads nothing (or stands at the top level but is not a `GPU <bus id>` header)
(or is not a section header as nvidia-smi writes them: capitalised, 4 spaces deeper per level)
is returned quoted in `unplaced` and does not take the lines after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gpuforge.validate._gpu import GpuFacts, compute_mode_name, enabled
from gpuforge.validate._text import integer, lines_of, number, unplaced, value, version_of

_KEY_VALUE = re.compile(r"^(?P<key>.*?\S)\s+:\s?(?P<value>.*)$")
_GPU_HEADER = re.compile(r"^GPU\s+(?P<bus>[0-9A-Fa-f]+:[0-9A-Fa-f]+:[0-9A-Fa-f]+\.[0-7])$")
_THROTTLE_KEYS = {
    "idle": "gpu_idle",
    "applications clocks setting": "applications_clocks_setting",
    "sw power cap": "sw_power_cap",
    "hw slowdown": "hw_slowdown",
    "hw thermal slowdown": "hw_thermal_slowdown",
    "hw power brake slowdown": "hw_power_brake_slowdown",
    "sync boost": "sync_boost",
    "sw thermal slowdown": "sw_thermal_slowdown",
    "display clock setting": "display_clock_setting",
}


@dataclass
class _Node:
    key: str
    value: str | None
    indent: int
    children: list[_Node] = field(default_factory=list)
    line: int = 0

    def child(self, *names: str) -> _Node | None:
        """First child whose key is one of `names` (case and surrounding blanks ignored)."""
        wanted = {n.lower() for n in names}
        return next((c for c in self.children if c.key.strip().lower() in wanted), None)

    def path(self, *steps: str) -> _Node | None:
        node: _Node | None = self
        for step in steps:
            node = node.child(*step.split("|")) if node else None
        return node

    def text(self, *steps: str) -> str | None:
        node = self.path(*steps)
        return value(node.value) if node else None

    def descendants(self) -> list[_Node]:
        found: list[_Node] = []
        for child in self.children:
            found.append(child)
            found.extend(child.descendants())
        return found


@dataclass(frozen=True)
class SmiQuery:
    """What `nvidia-smi -q` printed: driver and CUDA versions plus one `GpuFacts` per GPU."""

    driver_version: str | None
    cuda_version: str | None
    attached_gpus: int | None
    gpus: tuple[GpuFacts, ...]
    warnings: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()


def _tree(text: str, lost: list[str]) -> _Node:
    root = _Node("", None, -1)
    stack = [root]
    for number_, raw in enumerate(lines_of(text), start=1):
        line = raw.replace("\t", "    ").rstrip()
        if not line.strip() or line.strip().startswith("=="):
            continue
        indent = len(line) - len(line.lstrip(" "))
        match = _KEY_VALUE.match(line.strip())
        key, val = (match.group("key"), match.group("value")) if match else (line.strip(), None)
        if val is None and not _is_section(key, indent):
            lost.append(unplaced(number_, raw))
            continue
        while len(stack) > 1 and stack[-1].indent >= indent:
            stack.pop()
        node = _Node(key, val, indent, line=number_)
        stack[-1].children.append(node)
        stack.append(node)
    return root


def _is_section(key: str, indent: int) -> bool:
    """nvidia-smi heads sections with a capitalised name, 4 spaces deeper per level; at the top
    level only `GPU <bus id>` heads one."""
    if indent == 0:
        return _GPU_HEADER.match(key) is not None
    return indent % 4 == 0 and key[:1].isupper()


def _headless(root: _Node, lines: list[str]) -> list[str]:
    """Section headers (no ` : `) with nothing under them: lines the tree could not place."""
    return [
        unplaced(n.line, lines[n.line - 1])
        for n in root.descendants()
        if n.value is None and not n.children
    ]


def _sum_leaves(
    section: _Node | None, include: tuple[str, ...], exclude: tuple[str, ...]
) -> int | None:
    if section is None:
        return None
    counts = [
        integer(n.value)
        for n in section.descendants()
        if n.value is not None
        and any(w in n.key.lower() for w in include)
        and not any(w in n.key.lower() for w in exclude)
    ]
    known = [c for c in counts if c is not None]
    return sum(known) if known else None


def _ecc(gpu: _Node, kind: str) -> int | None:
    volatile = gpu.path("ECC Errors", "Volatile")
    if volatile is None:
        return None
    if volatile.child("Double Bit", "Single Bit") is not None:  # Volta-era layout, per memory unit
        block = "Double Bit" if kind == "uncorrectable" else "Single Bit"
        return integer(volatile.text(block, "Total"))
    if kind == "uncorrectable":
        return _sum_leaves(volatile, ("uncorrectable",), ())
    return _sum_leaves(volatile, ("correctable",), ("uncorrectable",))


def _power(gpu: _Node) -> dict[str, float | None]:
    section = gpu.child("GPU Power Readings", "Power Readings")
    found: dict[str, float | None] = {"limit": None, "default": None, "min": None, "max": None}
    if section is None:
        return found
    keys = {
        "current power limit": "limit",
        "power limit": "limit",
        "default power limit": "default",
        "min power limit": "min",
        "max power limit": "max",
    }
    for node in section.descendants():
        slot = keys.get(node.key.strip().lower())
        if slot and found[slot] is None:
            found[slot] = number(node.value)
    return found


def _throttle(gpu: _Node) -> tuple[str, ...]:
    section = gpu.child("Clocks Event Reasons", "Clocks Throttle Reasons")
    if section is None:
        return ()
    active = []
    for node in section.descendants():
        name = _THROTTLE_KEYS.get(node.key.strip().lower())
        if name and value(node.value) == "Active":
            active.append(name)
    return tuple(active)


def _gpu(position: int, bus: str, gpu: _Node, driver: str | None) -> GpuFacts:
    memory = integer(gpu.text("FB Memory Usage", "Total"))
    power = _power(gpu)
    return GpuFacts(
        index=position,
        name=gpu.text("Product Name"),
        uuid=gpu.text("GPU UUID"),
        bus_id=gpu.text("PCI", "Bus Id") or bus,
        driver=driver,
        memory_mib=memory,
        persistence=enabled(gpu.text("Persistence Mode")),
        compute_mode=compute_mode_name(gpu.text("Compute Mode")),
        power_limit_w=power["limit"],
        power_default_w=power["default"],
        power_min_w=power["min"],
        power_max_w=power["max"],
        ecc_uncorrected_volatile=_ecc(gpu, "uncorrectable"),
        ecc_corrected_volatile=_ecc(gpu, "correctable"),
        remap_pending=enabled(gpu.text("Remapped Rows", "Pending")),
        throttle_reasons=_throttle(gpu),
        mig_mode=enabled(gpu.text("MIG Mode", "Current")),
        temperature_c=number(gpu.text("Temperature", "GPU Current Temp")),
    )


def parse_smi_query(text: str) -> SmiQuery:
    """Read `nvidia-smi -q` output of any driver from R450 to R610 into typed per-GPU facts."""
    lost: list[str] = []
    root = _tree(text, lost)
    lost += _headless(root, lines_of(text))
    driver = version_of(root.text("Driver Version|KMD Version"))
    cuda = version_of(root.text("CUDA Version|CUDA UMD Version"))
    attached = integer(root.text("Attached GPUs"))
    gpus: list[GpuFacts] = []
    for node in root.children:
        header = _GPU_HEADER.match(node.key.strip())
        if header:
            gpus.append(_gpu(len(gpus), header.group("bus"), node, driver))
    warnings = []
    if attached is not None and attached != len(gpus):
        warnings.append(f"'Attached GPUs' says {attached} but {len(gpus)} GPU sections were found")
    if not gpus:
        warnings.append("no 'GPU <bus id>' section found")
    return SmiQuery(
        driver, cuda, attached, tuple(gpus), tuple(warnings), tuple(sorted(lost, key=_line_no))
    )


def _line_no(entry: str) -> int:
    return int(entry.split(":", 1)[0].removeprefix("line "))
