"""Findings a person can read: one cause with its consequences, one row per node and fault.

Two passes over one node's findings:
- a GPU lost to a fatal XID (it fell off the bus, so nvidia-smi no longer lists it) explains the
  short GPU count, nvidia-smi's exit status 15, the topology, diagnostics and NCCL that then
  fail, and nvidia-smi's normal "Unable to determine the device handle" line: the XID is
  reported once, those under it;
- findings that differ only in the GPU they name (persistence off on GPUs 0..7) fold into one
  finding that lists the GPUs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from gpuforge.validate._facts import NodeFacts
from gpuforge.validate._findings import Finding
from gpuforge.validate._layout import COLLECTORS
from gpuforge.validate._text import bus_key

FATAL_XID = "GF-HEALTH-012"
# What a GPU that is gone makes fail as well: its count, NVLink topology, diagnostics, NCCL.
_LOST_GPU_EFFECTS = frozenset(
    {"GF-HEALTH-002", "GF-HEALTH-015", "GF-HEALTH-021", "GF-HEALTH-023", "GF-HEALTH-024"}
    | {"GF-HEALTH-025", "GF-HEALTH-026"}
)
# Rules that quote collector lines gpuforge could not read; "explained" when every such line is
# nvidia-smi's normal message for a GPU it cannot reach.
_UNREAD_LINES = {"GF-HEALTH-027": "parse_warnings", "GF-HEALTH-033": "unplaced"}
_COLLECTOR_FAILED = "GF-HEALTH-001"
_NCCL_EFFECTS = frozenset({"GF-HEALTH-024", "GF-HEALTH-025", "GF-HEALTH-026"})
_NCCL_FILE = next(c.file for c in COLLECTORS if c.key == "nccl")
_NVML_LOST = re.compile(
    r"Unable to determine the device handle for GPU\s*([0-9A-Fa-f]+:[0-9A-Fa-f]+:[0-9A-Fa-f]+\.\d)"
)
_LOCATION = re.compile(r"^(?P<file>[^:]+): line (?P<line>\d+):")


def _nvml_lines(facts: NodeFacts) -> set[tuple[str, str]]:
    """(file, line) of every collector line that is nvidia-smi's lost-device message."""
    found = set()
    for entry in facts.unplaced:
        where = _LOCATION.match(entry)
        if where and _NVML_LOST.search(entry):
            found.add((where["file"], where["line"]))
    return found


def _unread_explained(entry: str, nvml: set[tuple[str, str]], files: set[str]) -> bool:
    """Whether an unread collector line is nvidia-smi's lost-device line, or comes from a
    collector whose failure the lost GPU already explains (no NCCL rows without the GPU)."""
    where = _LOCATION.match(entry)
    if where and (where["file"], where["line"]) in nvml:
        return True
    return entry.split(":", 1)[0] in files


def _explained_by_lost_gpu(
    finding: Finding, facts: NodeFacts, nvml: set[tuple[str, str]], files: set[str]
) -> bool:
    """Whether a finding follows from a GPU being gone, on a node that lost one: the effects
    listed above, nvidia-smi failing (exit 15 is NVML's "GPU is lost"), or unread lines that
    are all explained."""
    if finding.code in _LOST_GPU_EFFECTS:
        return True
    if finding.code == _COLLECTOR_FAILED and "nvidia-smi" in finding.message:
        return True
    field = _UNREAD_LINES.get(finding.code)
    if field is None:
        return False
    entries: tuple[str, ...] = getattr(facts, field)
    return bool(entries) and all(_unread_explained(e, nvml, files) for e in entries)


def _lost_buses(facts: NodeFacts) -> set[str]:
    """PCI buses an XID names that nvidia-smi no longer lists."""
    present = {key for gpu in facts.gpus if (key := bus_key(gpu.bus_id))}
    return {key for event in facts.xids if (key := bus_key(event.bus_id)) and key not in present}


def _nvml_note(finding: Finding, facts: NodeFacts) -> Finding:
    """An explained unread-lines finding, said as what it is: nvidia-smi's normal message for a
    GPU it cannot reach (nothing to report to anyone)."""
    quoted = sorted({f"GPU {m[1]}" for entry in facts.unplaced if (m := _NVML_LOST.search(entry))})
    fix = "nothing of its own: it goes away with the cause"
    if not quoted:
        return dataclasses.replace(finding, fix=fix)
    return dataclasses.replace(
        finding,
        message=f"nvidia-smi cannot reach {', '.join(quoted)} "
        "(its normal 'Unable to determine the device handle' line for a GPU that is gone)",
        fix=fix,
    )


def group_causes(findings: Sequence[Finding], facts: NodeFacts) -> list[Finding]:
    """Put what a lost GPU explains under the fatal XID that lost it, or else under the short
    GPU count (see the module docstring)."""
    lost = _lost_buses(facts)
    nvml = _nvml_lines(facts)
    causes = [
        f for f in findings if f.code == FATAL_XID and any(bus in f.message.lower() for bus in lost)
    ]
    if not causes and nvml:
        causes = [f for f in findings if f.code == "GF-HEALTH-002"]
    if not causes:
        return list(findings)
    cause = causes[0]
    files = {_NCCL_FILE} if any(f.code in _NCCL_EFFECTS for f in findings) else set()
    effects = [
        f for f in findings if f is not cause and _explained_by_lost_gpu(f, facts, nvml, files)
    ]
    # The same unread line reaches both unread-lines rules: say it once.
    unread = [f for f in effects if f.code in _UNREAD_LINES]
    notes = tuple(f for f in effects if f.code not in _UNREAD_LINES)
    notes += (_nvml_note(unread[-1], facts),) if unread else ()
    grouped = dataclasses.replace(cause, consequences=notes)
    return [grouped if f is cause else f for f in findings if f not in effects]


def _template(finding: Finding) -> tuple[str, str] | None:
    """The finding's message and fix with its GPU index taken out, or None without a GPU."""
    if finding.gpu is None:
        return None
    index = re.compile(rf"(GPU |-i ){finding.gpu}\b")
    return index.sub(r"\1{gpus}", finding.message), index.sub(r"\1{gpus}", finding.fix)


def fold_gpus(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per node, code and fault with the GPUs it concerns, not one per GPU."""
    groups: dict[tuple[str, str, str, str], list[Finding]] = {}
    order: list[tuple[str, str, str, str] | Finding] = []
    for finding in findings:
        template = _template(finding)
        if template is None:
            order.append(finding)
            continue
        key = (finding.node, finding.code, *template)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(finding)
    folded = []
    for item in order:
        if isinstance(item, Finding):
            folded.append(item)
            continue
        members = groups[item]
        if len(members) == 1:
            folded.append(members[0])
            continue
        gpus = tuple(sorted(m.gpu for m in members if m.gpu is not None))
        listed = ",".join(str(g) for g in gpus)
        message = item[2].replace("GPU {gpus} has ", "GPU {gpus} have ")
        message = message.replace("GPU {gpus}", f"GPUs {listed}").replace("{gpus}", listed)
        fix = item[3].replace("GPU {gpus}", f"GPUs {listed}").replace("{gpus}", listed)
        folded.append(
            dataclasses.replace(members[0], message=message, fix=fix, gpu=None, gpus=gpus)
        )
    return folded


def readable(findings: Sequence[Finding], facts: NodeFacts) -> list[Finding]:
    """A node's findings grouped under their causes, then folded across GPUs."""
    return fold_gpus(group_causes(findings, facts))
