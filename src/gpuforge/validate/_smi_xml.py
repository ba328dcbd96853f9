"""Parser for `nvidia-smi -q -x`: the -q report in NVIDIA's XML schema (nvsmi_device_v12.dtd).

It yields the same `SmiQuery` as the text parser. The document comes from a node, so it is read
as untrusted: with Python's expat, refusing an internal DTD subset (the only place a document can
declare the entities whose expansion makes a small document huge, or that name a local file) and
capping the number of elements and their depth; an undeclared entity is an expat error. The
`<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">` line nvidia-smi prints is only a name
here: expat is given no handler to fetch it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from gpuforge.validate._gpu import THROTTLE_BITS, GpuFacts, compute_mode_name, enabled
from gpuforge.validate._smi_q import SmiQuery, parse_smi_query
from gpuforge.validate._text import integer, number, value, version_of

# Most elements a document may hold: 8 GPUs of a current driver write about 3,000.
MAX_ELEMENTS = 200_000
# Deepest nesting a document may have: nvidia-smi's is 5 levels; the walks below recurse.
MAX_DEPTH = 64
_REASON_PREFIXES = ("clocks_event_reason_", "clocks_throttle_reason_")
_REASON_ALIASES = {"display_clocks_setting": "display_clock_setting"}
_REASONS = frozenset(THROTTLE_BITS.values())
_POWER = {
    "current_power_limit": "limit",
    "power_limit": "limit",
    "default_power_limit": "default",
    "min_power_limit": "min",
    "max_power_limit": "max",
}


class RefusedXml(ValueError):
    """The document has what an nvidia-smi report never has: a DTD subset, too many elements, or
    elements nested too deep."""


@dataclass
class Element:
    """One XML element: its tag, attributes, text and children, in document order."""

    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    def child(self, *tags: str) -> Element | None:
        """The first child whose tag is one of `tags`."""
        return next((c for c in self.children if c.tag in tags), None)

    def find(self, *steps: str) -> str | None:
        """The text at a path of tags (`a|b` tries each), or None when absent or N/A."""
        node: Element | None = self
        for step in steps:
            node = node.child(*step.split("|")) if node else None
        return value(node.text) if node is not None else None

    def descendants(self) -> list[Element]:
        """Every element below this one, depth first."""
        found: list[Element] = []
        for child in self.children:
            found.append(child)
            found.extend(child.descendants())
        return found


def _refuse_doctype(_name: str, _system: str | None, _public: str | None, subset: int) -> None:
    if subset:
        raise RefusedXml("the document carries an internal DTD subset")


def read_xml(text: str) -> Element:
    """Parse `text` into elements; RefusedXml for a DTD subset, too many elements or too deep a
    nesting, ValueError when it is not well-formed."""
    root = Element("", {})
    stack = [root]
    count = 0

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS:
            raise RefusedXml(f"the document has more than {MAX_ELEMENTS} elements")
        if len(stack) > MAX_DEPTH:
            raise RefusedXml(f"elements nested deeper than {MAX_DEPTH}")
        element = Element(tag, attrs)
        stack[-1].children.append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def data(chunk: str) -> None:
        stack[-1].text += chunk

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        parser.Parse(text.encode("utf-8"), True)
    except expat.ExpatError as exc:
        raise ValueError(f"not well-formed XML ({exc})") from exc
    if len(root.children) != 1:
        raise ValueError("no root element")
    return root.children[0]


def _sum(section: Element | None, include: str, exclude: str | None) -> int | None:
    if section is None:
        return None
    counts = [
        integer(e.text)
        for e in section.descendants()
        if not e.children and include in e.tag and (exclude is None or exclude not in e.tag)
    ]
    known = [c for c in counts if c is not None]
    return sum(known) if known else None


def _ecc(gpu: Element, kind: str) -> int | None:
    volatile = gpu.child("ecc_errors")
    volatile = volatile.child("volatile") if volatile else None
    if volatile is None:
        return None
    if volatile.child("double_bit", "single_bit") is not None:  # Volta-era layout
        return integer(
            volatile.find("double_bit" if kind == "uncorrectable" else "single_bit", "total")
        )
    if kind == "uncorrectable":
        return _sum(volatile, "uncorrectable", None)
    return _sum(volatile, "correctable", "uncorrectable")


def _power(gpu: Element) -> dict[str, float | None]:
    found: dict[str, float | None] = {"limit": None, "default": None, "min": None, "max": None}
    section = gpu.child("gpu_power_readings", "power_readings")
    for element in section.descendants() if section else ():
        slot = _POWER.get(element.tag)
        if slot and found[slot] is None:
            found[slot] = number(element.text)
    return found


def _throttle(gpu: Element) -> tuple[str, ...]:
    section = gpu.child("clocks_event_reasons", "clocks_throttle_reasons")
    active = []
    for element in section.descendants() if section else ():
        name = element.tag
        for prefix in _REASON_PREFIXES:
            name = name.removeprefix(prefix)
        name = _REASON_ALIASES.get(name, name)
        if name in _REASONS and value(element.text) == "Active":
            active.append(name)
    return tuple(active)


def _gpu(position: int, gpu: Element, driver: str | None) -> GpuFacts:
    power = _power(gpu)
    return GpuFacts(
        index=position,
        name=gpu.find("product_name"),
        uuid=gpu.find("uuid"),
        bus_id=gpu.find("pci", "pci_bus_id") or gpu.attrs.get("id"),
        driver=driver,
        memory_mib=integer(gpu.find("fb_memory_usage", "total")),
        persistence=enabled(gpu.find("persistence_mode")),
        compute_mode=compute_mode_name(gpu.find("compute_mode")),
        power_limit_w=power["limit"],
        power_default_w=power["default"],
        power_min_w=power["min"],
        power_max_w=power["max"],
        ecc_uncorrected_volatile=_ecc(gpu, "uncorrectable"),
        ecc_corrected_volatile=_ecc(gpu, "correctable"),
        remap_pending=enabled(gpu.find("remapped_rows", "remapped_row_pending")),
        throttle_reasons=_throttle(gpu),
        mig_mode=enabled(gpu.find("mig_mode", "current_mig")),
        temperature_c=number(gpu.find("temperature", "gpu_temp")),
    )


def parse_smi_query_xml(text: str) -> SmiQuery:
    """Read `nvidia-smi -q -x` into the facts `parse_smi_query` reads from the text form."""
    try:
        root = read_xml(text)
    except ValueError as exc:
        return SmiQuery(None, None, None, (), (f"not an `nvidia-smi -q -x` document: {exc}",))
    if root.tag != "nvidia_smi_log":
        found = f"<{root.tag}>"
        return SmiQuery(None, None, None, (), (f"root element is {found}, not <nvidia_smi_log>",))
    driver = version_of(root.find("driver_version|kmd_version"))
    attached = integer(root.find("attached_gpus"))
    gpus = [
        _gpu(n, gpu, driver) for n, gpu in enumerate(c for c in root.children if c.tag == "gpu")
    ]
    warnings = []
    if attached is not None and attached != len(gpus):
        warnings.append(
            f"'attached_gpus' says {attached} but {len(gpus)} <gpu> elements were found"
        )
    if not gpus:
        warnings.append("no <gpu> element found")
    cuda = version_of(root.find("cuda_version|cuda_umd_version"))
    return SmiQuery(driver, cuda, attached, tuple(gpus), tuple(warnings))


def parse_smi_query_output(text: str) -> SmiQuery:
    """The XML form when the collector saved it (`-q -x`), else the text form (`-q`)."""
    return parse_smi_query_xml(text) if text.lstrip().startswith("<") else parse_smi_query(text)
