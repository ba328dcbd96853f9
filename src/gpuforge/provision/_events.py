"""Typed progress events and diagnostics, read from Terraform's `-json` UI or its plain text."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Diagnostic",
    "ProgressEvent",
    "diagnostic_from_json",
    "parse_plain_diagnostics",
    "parse_ui_line",
]


@dataclass(frozen=True)
class Diagnostic:
    """One error or warning from Terraform, with the file and line it points at when given."""

    severity: str
    summary: str
    detail: str = ""
    file: str = ""
    line: int = 0

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else ""
        text = f"{where}{self.summary}"
        return f"{text}: {self.detail}" if self.detail else text


@dataclass(frozen=True)
class ProgressEvent:
    """One line of Terraform output; `kind` is the `-json` UI message type, or `line` for text.

    Resource hooks (`apply_start`, `apply_complete`, `apply_errored`, `planned_change`, ...)
    fill `address` and `action`; `diagnostic` events fill `diagnostic`.
    """

    kind: str
    message: str
    level: str = "info"
    address: str = ""
    action: str = ""
    elapsed_seconds: float | None = None
    diagnostic: Diagnostic | None = None


def diagnostic_from_json(body: dict[str, Any]) -> Diagnostic:
    """Read one diagnostic object, as `-json` UI messages and `validate -json` carry them."""
    span = body.get("range") or {}
    return Diagnostic(
        severity=str(body.get("severity", "error")),
        summary=str(body.get("summary", "")),
        detail=str(body.get("detail", "")),
        file=str(span.get("filename", "")),
        line=int((span.get("start") or {}).get("line", 0)),
    )


def _resource_part(message: dict[str, Any]) -> tuple[str, str, float | None]:
    """Address, action and elapsed time from a `hook` or `change` payload."""
    payload = message.get("hook") or message.get("change") or {}
    resource = payload.get("resource") or {}
    elapsed = payload.get("elapsed_seconds")
    return (
        str(resource.get("addr", "")),
        str(payload.get("action", "")),
        float(elapsed) if isinstance(elapsed, int | float) else None,
    )


def parse_ui_line(line: str) -> ProgressEvent:
    """Turn one output line into an event: typed when it is a `-json` UI message, else `line`."""
    text = line.rstrip("\n")
    if text.startswith("{"):
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if isinstance(message, dict) and "type" in message:
            address, action, elapsed = _resource_part(message)
            body = message.get("diagnostic")
            return ProgressEvent(
                kind=str(message["type"]),
                message=str(message.get("@message", "")),
                level=str(message.get("@level", "info")),
                address=address,
                action=action,
                elapsed_seconds=elapsed,
                diagnostic=diagnostic_from_json(body) if isinstance(body, dict) else None,
            )
    return ProgressEvent(kind="line", message=text)


_HEADER = re.compile(r"^(Error|Warning): (.*)$")
_LOCATION = re.compile(r"^\s*on (\S+) line (\d+)")
_SNIPPET = re.compile(r"^\s+(\d+:|\(and \d+ more)")
_FRAME = re.compile(r"^[\u2577\u2575]\s*$|^\u2502 ?")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _finish(severity: str, summary: str, body: list[str], file: str, line: int) -> Diagnostic:
    detail = " ".join(" ".join(part.split()) for part in body if part.strip())
    return Diagnostic(severity.lower(), summary.strip(), detail, file, line)


def parse_plain_diagnostics(text: str) -> list[Diagnostic]:
    """Read `Error:`/`Warning:` blocks from human output (box frame and colours tolerated)."""
    found: list[Diagnostic] = []
    current: tuple[str, str] | None = None
    body: list[str] = []
    file, line_no = "", 0
    for raw in text.splitlines():
        line = _FRAME.sub("", _ANSI.sub("", raw))
        header = _HEADER.match(line)
        if header:
            if current:
                found.append(_finish(*current, body, file, line_no))
            current, body, file, line_no = (header.group(1), header.group(2)), [], "", 0
            continue
        if current is None:
            continue
        location = _LOCATION.match(line)
        if location and not file:
            file, line_no = location.group(1).rstrip(","), int(location.group(2))
        elif not _SNIPPET.match(line):
            body.append(line)
    if current:
        found.append(_finish(*current, body, file, line_no))
    return found
