"""The outcome of one playbook run: per-host recap, failed hosts with their reasons, and timing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gpuforge.configure._events import HostStats

__all__ = ["HostFailure", "PlaybookResult", "RunStatus", "overall_status"]

RunStatus = Literal["ok", "partial", "failed"]


@dataclass(frozen=True)
class HostFailure:
    """Why a host failed: the task (and role) that failed last, and Ansible's message."""

    host: str
    task: str
    role: str
    message: str
    unreachable: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for `--json` output and the journal."""
        return {
            "host": self.host,
            "task": self.task,
            "role": self.role,
            "message": self.message,
            "unreachable": self.unreachable,
        }


@dataclass(frozen=True)
class PlaybookResult:
    """What a playbook run did to each host, and which engine ran it.

    `status` is `ok` when every host succeeded, `partial` when some failed or were unreachable
    while others completed, and `failed` when none succeeded.
    """

    playbook: str
    status: RunStatus
    hosts: dict[str, HostStats]
    failures: dict[str, HostFailure]
    duration_s: float
    engine: str
    strategy: str
    engine_reason: str
    check: bool
    rc: int
    artifacts_dir: Path

    @property
    def failed_hosts(self) -> list[str]:
        """Hosts that failed a task or could not be reached, sorted."""
        return sorted(h for h, s in self.hosts.items() if s.status != "ok")

    @property
    def ok_hosts(self) -> list[str]:
        """Hosts that completed every play, sorted."""
        return sorted(h for h, s in self.hosts.items() if s.status == "ok")

    @property
    def changed(self) -> int:
        """Total changed tasks over all hosts: 0 on an idempotent re-run."""
        return sum(s.changed for s in self.hosts.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view: per-host counts with `changed`, failures, engine and timing."""
        return {
            "playbook": self.playbook,
            "status": self.status,
            "check": self.check,
            "rc": self.rc,
            "duration_s": round(self.duration_s, 3),
            "engine": {"name": self.engine, "strategy": self.strategy, "why": self.engine_reason},
            "hosts": {h: s.to_dict() for h, s in sorted(self.hosts.items())},
            "failures": {h: f.to_dict() for h, f in sorted(self.failures.items())},
            "changed": self.changed,
        }


def overall_status(hosts: dict[str, HostStats]) -> RunStatus:
    """`ok`, `partial` or `failed` from the per-host recap."""
    bad = sum(1 for s in hosts.values() if s.status != "ok")
    if bad == 0:
        return "ok"
    return "failed" if bad == len(hosts) else "partial"
