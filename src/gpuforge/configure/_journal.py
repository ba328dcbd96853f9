"""An append-only JSON-lines journal of a deployment's steps, so `up --resume` skips finished work.

Each record is one line written with a single `write` and fsync'd. A crash mid-write (or a full
disk) leaves at most one torn last line: readers skip it and the next append starts on a fresh
line. A fresh `up` calls `start_run()`; `--resume` does not, so it sees the steps of the
interrupted run. The journal is only ever a regular file: a pipe or directory in its place, NUL
bytes or invalid UTF-8 in it are refused (exit 2, naming it), never waited on or guessed at.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from gpuforge.errors import FileError, InputError, Location, MissingFileError, Problem
from gpuforge.files import MIB, disk_full, not_regular, read_text

__all__ = ["RUN_STEP", "Journal", "JournalEntry", "StepStatus"]

StepStatus = Literal["started", "done", "failed", "interrupted", "skipped"]
_STATUSES: frozenset[str] = frozenset({"started", "done", "failed", "interrupted", "skipped"})

# The marker step a fresh run starts with; earlier records belong to earlier runs.
RUN_STEP = "run"
MAX_JOURNAL_BYTES = 64 * MIB


@dataclass(frozen=True)
class JournalEntry:
    """One journal record: when, which step, its status, and any step-specific data."""

    ts: str
    step: str
    status: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object stored on one journal line."""
        return {"ts": self.ts, "step": self.step, "status": self.status, **self.data}


def _parse(line: str) -> JournalEntry | None:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("step"), str):
        return None
    ts, step, status = str(obj.pop("ts", "")), obj.pop("step"), str(obj.pop("status", ""))
    return JournalEntry(ts=ts, step=step, status=status, data=obj)


class Journal:
    """The journal file at `path` (usually DEPLOY/journal.jsonl); created on first record."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, step: str, status: StepStatus, **data: Any) -> JournalEntry:
        """Append one record; `data` must be JSON-serialisable and must never hold secrets."""
        if status not in _STATUSES:
            raise ValueError(f"unknown journal status {status!r}")
        entry = JournalEntry(
            ts=datetime.now(UTC).isoformat(timespec="milliseconds"),
            step=step,
            status=status,
            data=dict(data),
        )
        line = json.dumps(entry.to_dict(), sort_keys=True, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # O_RDWR|O_NONBLOCK: a pipe in the journal's place opens at once and is refused below.
            flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise self._write_error(exc) from None
        try:
            size = os.fstat(fd)
            odd = not_regular(self.path, size.st_mode)
            if odd is not None:
                raise FileError([replace(p, fix=self._fix) for p in odd.problems])
            if size.st_size and os.pread(fd, 1, size.st_size - 1) != b"\n":
                line = "\n" + line
            payload = line.encode()
            if os.write(fd, payload) != len(payload):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
            os.fsync(fd)
        except OSError as exc:
            raise self._write_error(exc) from None
        finally:
            os.close(fd)
        return entry

    def _write_error(self, error: OSError) -> Exception:
        full = disk_full(error, self.path)
        if full is not None:
            return full
        if error.errno == errno.EISDIR:
            return self._corrupt("is a directory, not a regular file")
        return InputError(
            f"cannot write the journal {self.path}: {error.strerror}",
            fix="make the deployment folder writable, or point gpuforge at another one",
        )

    @property
    def _fix(self) -> str:
        return (
            f"move it aside (mv {self.path} {self.path}.corrupt), then run `gpuforge up` without "
            "--resume: every step runs again and changes nothing that is already right"
        )

    def _corrupt(self, message: str) -> FileError:
        return FileError([Problem(Location(str(self.path)), message, self._fix)])

    def entries(self) -> list[JournalEntry]:
        """Every readable record in order; a torn or garbled line is skipped, not fatal, but a
        journal that is not UTF-8 text in a regular file is refused (FileError)."""
        try:
            text = read_text(self.path, max_bytes=MAX_JOURNAL_BYTES, fix=self._fix)
        except MissingFileError:
            return []
        except FileError as error:
            raise FileError([replace(p, fix=self._fix) for p in error.problems]) from None
        return [e for e in map(_parse, text.splitlines()) if e is not None]

    def start_run(self, **data: Any) -> JournalEntry:
        """Mark the start of a fresh run; steps recorded before it no longer count as done."""
        return self.record(RUN_STEP, "started", **data)

    def current_run(self) -> list[JournalEntry]:
        """The records since the last `start_run()` (all records when there was none)."""
        entries = self.entries()
        starts = [i for i, e in enumerate(entries) if e.step == RUN_STEP and e.status == "started"]
        return entries[starts[-1] + 1 :] if starts else entries

    def step_status(self) -> dict[str, str]:
        """Each step of the current run mapped to its latest status."""
        return {e.step: e.status for e in self.current_run()}

    def completed_steps(self) -> set[str]:
        """Steps of the current run whose latest record is `done`: `--resume` skips these."""
        return {step for step, status in self.step_status().items() if status == "done"}

    def last_failure(self) -> JournalEntry | None:
        """The latest `failed` or `interrupted` record of the current run, if no later `done`."""
        latest: dict[str, tuple[int, JournalEntry]] = {}
        for index, entry in enumerate(self.current_run()):
            latest[entry.step] = (index, entry)
        failures = [pair for pair in latest.values() if pair[1].status in ("failed", "interrupted")]
        return max(failures, key=lambda pair: pair[0])[1] if failures else None
