"""Lock history: every lock that reached a cluster, when, and on which nodes.

`locks/index.json` in the deployment folder lists one record per application, oldest first:
its number, the copy of the lock it applied (`locks/<n>-<UTC time>.lock`, the lock file's exact
text), that text's sha256, when it was first and last applied, and the nodes it reached. A lock
applied again to more nodes while it is still the newest record adds those nodes to it; any
other lock (a new one, or an older one a rollback returns to) starts a new record. Each node is
on the lock of the newest record naming it, so "previous" is always known: `previous_lock`.
Every file is replaced atomically inside the deployment folder, never through a symlink.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gpuforge.check import Lock, parse_lock
from gpuforge.errors import FileError, Location, Problem
from gpuforge.files import load_json
from gpuforge.ops._deploy import Deployment
from gpuforge.render import read_inside, replace_inside

__all__ = [
    "HISTORY_FORMAT",
    "LOCKS_DIR",
    "LockRecord",
    "lock_digest",
    "lock_history",
    "node_locks",
    "previous_lock",
    "record_lock",
    "recorded_lock",
]

LOCKS_DIR = "locks"
INDEX = f"{LOCKS_DIR}/index.json"
HISTORY_FORMAT = 1
_FIX = (
    "restore the deployment folder from a backup (`gpuforge restore`), or move locks/ away: "
    "the next `up` starts a new history"
)


def lock_digest(text: str) -> str:
    """The digest a lock is known by in the history: sha256 of its exact text."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LockRecord:
    """One application of a lock: number, its copy's path in the folder, digest, times, nodes."""

    n: int
    file: str
    digest: str
    applied_at: str
    updated_at: str
    nodes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view, as stored in the index and shown by `--json`."""
        return {
            "n": self.n,
            "file": self.file,
            "digest": self.digest,
            "applied_at": self.applied_at,
            "updated_at": self.updated_at,
            "nodes": list(self.nodes),
        }


def _broken(deployment: Deployment, field_path: str, message: str) -> FileError:
    where = Location(str(deployment.root / INDEX), path=field_path)
    return FileError([Problem(where, f"not a valid lock history: {message}", _FIX)])


def _record(deployment: Deployment, index: int, entry: Any) -> LockRecord:
    where = f"records[{index}]"
    if not isinstance(entry, dict):
        raise _broken(deployment, where, "a record is not an object")
    text_fields = ("file", "digest", "applied_at", "updated_at")
    if not isinstance(entry.get("n"), int) or not all(
        isinstance(entry.get(key), str) for key in text_fields
    ):
        raise _broken(deployment, where, "a record lacks n, file, digest or its times")
    nodes = entry.get("nodes")
    if not isinstance(nodes, list) or not all(isinstance(node, str) for node in nodes):
        raise _broken(deployment, f"{where}.nodes", "nodes is not a list of names")
    file = entry["file"]
    if not file.startswith(f"{LOCKS_DIR}/") or "/" in file[len(LOCKS_DIR) + 1 :]:
        raise _broken(deployment, f"{where}.file", f"{file!r} is not a file of {LOCKS_DIR}/")
    return LockRecord(
        n=entry["n"],
        file=file,
        digest=entry["digest"],
        applied_at=entry["applied_at"],
        updated_at=entry["updated_at"],
        nodes=tuple(nodes),
    )


def lock_history(deployment: Deployment) -> list[LockRecord]:
    """Every record of the deployment's lock history, oldest first (empty when none yet)."""
    text = read_inside(deployment.root, INDEX)
    if text is None:
        return []
    data = load_json(text, str(deployment.root / INDEX), _FIX)
    if not isinstance(data, dict) or data.get("format") != HISTORY_FORMAT:
        raise _broken(deployment, "format", f"this gpuforge reads format {HISTORY_FORMAT}")
    records = data.get("records")
    if not isinstance(records, list):
        raise _broken(deployment, "records", "records is not a list")
    return [_record(deployment, i, entry) for i, entry in enumerate(records)]


def node_locks(deployment: Deployment) -> dict[str, LockRecord]:
    """Node -> the record of the lock it is on (the newest record naming it), sorted by node."""
    found: dict[str, LockRecord] = {}
    for record in lock_history(deployment):
        for node in record.nodes:
            found[node] = record
    return dict(sorted(found.items()))


def previous_lock(deployment: Deployment, digest: str | None = None) -> LockRecord | None:
    """The newest record of a lock other than `digest` (default: the newest record's lock):
    the lock to go back to. None when the cluster never ran another lock."""
    records = lock_history(deployment)
    if not records:
        return None
    current = digest if digest is not None else records[-1].digest
    for record in reversed(records):
        if record.digest != current:
            return record
    return None


def recorded_lock(deployment: Deployment, record: LockRecord) -> tuple[str, Lock]:
    """The text of a record's lock copy and the parsed Lock; FileError when it is gone or
    changed since it was recorded."""
    text = read_inside(deployment.root, record.file)
    if text is None or lock_digest(text) != record.digest:
        state = "is missing" if text is None else "no longer matches its digest"
        raise _broken(deployment, f"records.{record.n}.file", f"{record.file} {state}")
    return text, parse_lock(text, str(deployment.root / record.file))


def record_lock(
    deployment: Deployment, lock_text: str, nodes: Iterable[str], *, at: datetime | None = None
) -> LockRecord | None:
    """Record that the lock with this exact text reached `nodes`; returns the record written
    (None when `nodes` is empty). FileError when the text is no lock. Hold the run lock."""
    names = sorted(set(nodes))
    if not names:
        return None
    parse_lock(lock_text, "the lock being recorded")
    when = (at or datetime.now(UTC)).astimezone(UTC)
    stamp = when.isoformat(timespec="seconds").replace("+00:00", "Z")
    records = lock_history(deployment)
    digest = lock_digest(lock_text)
    last = records[-1] if records else None
    if last is not None and last.digest == digest:
        merged = tuple(sorted({*last.nodes, *names}))
        record = LockRecord(last.n, last.file, digest, last.applied_at, stamp, merged)
        records[-1] = record
    else:
        n = last.n + 1 if last else 1
        file = f"{LOCKS_DIR}/{n:04d}-{when.strftime('%Y%m%dT%H%M%SZ')}.lock"
        replace_inside(deployment.root, file, lock_text)
        record = LockRecord(n, file, digest, stamp, stamp, tuple(names))
        records.append(record)
    index = {"format": HISTORY_FORMAT, "records": [r.to_dict() for r in records]}
    replace_inside(deployment.root, INDEX, json.dumps(index, indent=2, sort_keys=True) + "\n")
    return record
