"""Parser for XID events in a kernel log (dmesg, `dmesg --time-format iso`, journalctl, syslog).

Besides `NVRM: Xid (PCI:...): N, ...` lines it recognises the multi-line "GPU ... has fallen off
the bus" report that some drivers print without an Xid line, and records it as XID 79.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gpuforge.validate._text import lines_of

_XID = re.compile(r"NVRM: Xid \(PCI:(?P<bus>[0-9A-Fa-f:.]+)\): (?P<code>\d+),?\s*(?P<text>.*)$")
_PID = re.compile(r"pid=(?:'?<unknown>'?|(?P<pid>\d+))")
_NAME = re.compile(r"name=(?P<name>[^,]+)")
_FALLEN_START = re.compile(r"NVRM: The NVIDIA GPU (?P<bus>[0-9A-Fa-f:.]+)")
_NVRM_CONTINUATION = re.compile(r"^\s+NVRM:\s*(?P<text>.*)$")
FALLEN_OFF_BUS = 79


@dataclass(frozen=True)
class XidEvent:
    """One XID: the GPU's PCI id as logged, the code, the process if any, and the message."""

    bus_id: str
    code: int
    pid: int | None
    process: str | None
    text: str


@dataclass(frozen=True)
class XidEvents:
    """All XIDs found in a log, in the order they were logged."""

    events: tuple[XidEvent, ...]
    warnings: tuple[str, ...] = ()


def _message(rest: str) -> str:
    """Drop the `pid=..., name=...,` prefix the driver puts before the message itself."""
    parts = [p.strip() for p in rest.split(",")]
    kept = [p for p in parts if not (p.startswith("pid=") or p.startswith("name="))]
    return ", ".join(p for p in kept if p)


def parse_xids(text: str) -> XidEvents:
    """Find every XID in a kernel log of any common timestamp format."""
    events: list[XidEvent] = []
    lines = lines_of(text)
    for position, line in enumerate(lines):
        xid = _XID.search(line)
        if xid:
            rest = xid.group("text")
            pid = _PID.search(rest)
            name = _NAME.search(rest)
            process = name.group("name").strip() if name else None
            events.append(
                XidEvent(
                    xid.group("bus"),
                    int(xid.group("code")),
                    int(pid.group("pid")) if pid and pid.group("pid") else None,
                    None if process in (None, "<unknown>") else process,
                    _message(rest),
                )
            )
            continue
        fallen = _FALLEN_START.search(line)
        if fallen:
            following = []
            for next_line in lines[position + 1 :]:
                more = _NVRM_CONTINUATION.match(next_line)
                if more is None:
                    break
                following.append(more.group("text"))
            joined = " ".join(following)
            if "fallen off the bus" in joined:
                events.append(
                    XidEvent(
                        fallen.group("bus"), FALLEN_OFF_BUS, None, None, f"GPU {joined}".strip()
                    )
                )
    return XidEvents(tuple(events))
