"""Parser for XID events in a kernel log (dmesg, `dmesg --time-format iso`, journalctl, syslog).

Besides `NVRM: Xid (PCI:...): N, ...` lines it recognises the multi-line "GPU ... has fallen off
the bus" report that some drivers print without an Xid line, and records it as XID 79. A kernel
log is mostly other drivers' lines, which are not this parser's to place; a line that mentions
`Xid` but cannot be read as one is returned quoted in `unplaced`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gpuforge.validate._text import lines_of, unplaced

_XID = re.compile(r"NVRM: Xid \(PCI:(?P<bus>[0-9A-Fa-f:.]+)\): (?P<code>\d+),?\s*(?P<text>.*)$")
_PID = re.compile(r"pid=(?:'?<unknown>'?|(?P<pid>\d+))")
_NAME = re.compile(r"name=(?P<name>[^,]+)")
_XID_MENTION = re.compile(r"\bXid\b")
_FALLEN_START = re.compile(r"NVRM: The NVIDIA GPU (?P<bus>[0-9A-Fa-f:.]+)")
_NVRM_CONTINUATION = re.compile(r"^\s+NVRM:\s*(?P<text>.*)$")
FALLEN_OFF_BUS = 79
# How far below its first line the rest of a "fallen off the bus" report may be (other messages
# can interleave with its continuation lines).
_REPORT_WINDOW = 6


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
    unplaced: tuple[str, ...] = ()


def _message(rest: str) -> str:
    """Drop the `pid=..., name=...,` prefix the driver puts before the message itself."""
    parts = [p.strip() for p in rest.split(",")]
    kept = [p for p in parts if not (p.startswith("pid=") or p.startswith("name="))]
    return ", ".join(p for p in kept if p)


def _report_rest(following: list[str]) -> str:
    """The continuation lines of a multi-line NVRM report, skipping other messages between them."""
    pieces: list[str] = []
    for next_line in following:
        if _FALLEN_START.search(next_line):
            break
        more = _NVRM_CONTINUATION.match(next_line)
        if more is not None:
            pieces.append(more.group("text"))
            if "fallen off the bus" in " ".join(pieces):
                break
    return " ".join(pieces)


def parse_xids(text: str) -> XidEvents:
    """Find every XID in a kernel log of any common timestamp format."""
    events: list[XidEvent] = []
    lost: list[str] = []
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
        if _XID_MENTION.search(line):
            lost.append(unplaced(position + 1, line))
            continue
        fallen = _FALLEN_START.search(line)
        if fallen:
            joined = _report_rest(lines[position + 1 : position + 1 + _REPORT_WINDOW])
            if "fallen off the bus" in joined:
                events.append(
                    XidEvent(
                        fallen.group("bus"), FALLEN_OFF_BUS, None, None, f"GPU {joined}".strip()
                    )
                )
            else:
                lost.append(unplaced(position + 1, line))
    return XidEvents(tuple(events), (), tuple(lost))
