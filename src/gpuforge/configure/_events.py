"""Typed views of ansible-runner's event stream, for progress displays and results.

ansible-runner hands over loosely shaped dicts (`event`, `event_data`); this module turns the
few kinds a progress display needs into `ConfigureEvent` and the final stats into `HostStats`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "ConfigureEvent",
    "EventKind",
    "HostStats",
    "failure_message",
    "parse_event",
    "parse_stats",
]

_MESSAGE_MAX = 600


class EventKind(StrEnum):
    """What happened: a play or task began, a host began a task, or a host finished one."""

    PLAY_START = "play_start"
    TASK_START = "task_start"
    HOST_START = "host_start"
    OK = "ok"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    SKIPPED = "skipped"
    STATS = "stats"


_KINDS = {
    "playbook_on_play_start": EventKind.PLAY_START,
    "playbook_on_task_start": EventKind.TASK_START,
    "playbook_on_handler_task_start": EventKind.TASK_START,
    "runner_on_start": EventKind.HOST_START,
    "runner_on_ok": EventKind.OK,
    "runner_on_failed": EventKind.FAILED,
    "runner_on_unreachable": EventKind.UNREACHABLE,
    "runner_on_skipped": EventKind.SKIPPED,
    "playbook_on_stats": EventKind.STATS,
}


@dataclass(frozen=True)
class ConfigureEvent:
    """One step of a playbook run: which host, play, role and task, and how it went.

    `changed` is set on OK events that changed the host; `ignored` on FAILED events whose
    task has `ignore_errors`; `message` carries the failure or unreachable reason; `result` is
    what the module returned, on OK events.
    """

    kind: EventKind
    host: str = ""
    play: str = ""
    role: str = ""
    task: str = ""
    changed: bool = False
    ignored: bool = False
    message: str = ""
    result: Mapping[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The outcome as a word a display can show: `changed` for OK events that changed."""
        if self.kind is EventKind.OK and self.changed:
            return "changed"
        return self.kind.value


@dataclass(frozen=True)
class HostStats:
    """A host's recap counts, as in Ansible's PLAY RECAP."""

    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0

    @property
    def status(self) -> str:
        """`unreachable`, `failed` or `ok`, the worst that happened to the host."""
        if self.unreachable:
            return "unreachable"
        return "failed" if self.failed else "ok"

    def to_dict(self) -> dict[str, int | str]:
        """JSON-ready counts plus the status, for `--json` output and the journal."""
        return {
            "status": self.status,
            "ok": self.ok,
            "changed": self.changed,
            "failed": self.failed,
            "unreachable": self.unreachable,
            "skipped": self.skipped,
            "rescued": self.rescued,
            "ignored": self.ignored,
        }


def failure_message(res: Mapping[str, Any]) -> str:
    """The human reason in a module result: `msg`, plus the tail of stderr when it adds to it."""
    msg = str(res.get("msg") or res.get("reason") or "").strip()
    stderr = str(res.get("stderr") or res.get("module_stderr") or "").strip()
    if stderr and stderr not in msg:
        tail = " | ".join(stderr.splitlines()[-3:])
        msg = f"{msg}: {tail}" if msg else tail
    if not msg and res.get("rc") is not None:
        msg = f"exited with status {res['rc']}"
    # SSH's banners (lines of @) and CRLFs say nothing; keep one readable line.
    msg = " ".join(line.strip() for line in msg.splitlines() if line.strip(" @\r\t"))
    return msg if len(msg) <= _MESSAGE_MAX else msg[: _MESSAGE_MAX - 3] + "..."


def _role_name(data: Mapping[str, Any]) -> str:
    role = str(data.get("role") or "")
    return role.rsplit(".", 1)[-1]


def parse_event(raw: Mapping[str, Any]) -> ConfigureEvent | None:
    """Turn one ansible-runner event into a `ConfigureEvent`; None for kinds not tracked."""
    kind = _KINDS.get(str(raw.get("event", "")))
    if kind is None:
        return None
    data: Mapping[str, Any] = raw.get("event_data") or {}
    res: Mapping[str, Any] = data.get("res") or {}
    message = ""
    if kind in (EventKind.FAILED, EventKind.UNREACHABLE):
        message = failure_message(res)
    task = "" if kind is EventKind.PLAY_START else str(data.get("task") or data.get("name") or "")
    return ConfigureEvent(
        kind=kind,
        host=str(data.get("host") or ""),
        play=str(data.get("play") or ""),
        role=_role_name(data),
        task=task,
        changed=bool(res.get("changed")) if kind is EventKind.OK else False,
        ignored=bool(data.get("ignore_errors")) if kind is EventKind.FAILED else False,
        message=message,
        result=res if kind is EventKind.OK else {},
    )


def parse_stats(event_data: Mapping[str, Any]) -> dict[str, HostStats]:
    """Per-host recap counts from a `playbook_on_stats` event's data."""

    def counts(key: str) -> Mapping[str, int]:
        value = event_data.get(key)
        return value if isinstance(value, Mapping) else {}

    hosts: set[str] = set()
    for key in ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored", "processed"):
        hosts.update(counts(key))
    return {
        host: HostStats(
            ok=int(counts("ok").get(host, 0)),
            changed=int(counts("changed").get(host, 0)),
            failed=int(counts("failures").get(host, 0)),
            unreachable=int(counts("dark").get(host, 0)),
            skipped=int(counts("skipped").get(host, 0)),
            rescued=int(counts("rescued").get(host, 0)),
            ignored=int(counts("ignored").get(host, 0)),
        )
        for host in sorted(hosts)
    }
