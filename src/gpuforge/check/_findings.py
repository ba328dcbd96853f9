"""Findings: what `gpuforge check` reports, each with a stable code, a location and a fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gpuforge.errors import Location

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One result of a rule: code (GF-AREA-NNN), severity, where, what, and how to fix it."""

    code: str
    severity: Severity
    message: str
    fix: str
    location: Location
    pool: str | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view for `--json` output."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "fix": self.fix,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "field": self.location.path,
            "pool": self.pool,
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Errors first, then by file position and code, so output is stable."""
    return sorted(
        findings,
        key=lambda f: (SEVERITY_ORDER[f.severity], f.location.line, f.location.column, f.code),
    )
