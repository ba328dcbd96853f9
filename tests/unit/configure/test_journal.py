"""The journal: append-only, resumable, and robust to a torn last line."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from gpuforge.configure import Journal
from gpuforge.errors import DiskFullError, FileError


def test_records_and_completed_steps(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.record("check", "started")
    journal.record("check", "done", findings=0)
    journal.record("render", "started")
    journal.record("render", "failed", error="disk full")
    assert journal.completed_steps() == {"check"}
    failure = journal.last_failure()
    assert failure is not None
    assert (failure.step, failure.data["error"]) == ("render", "disk full")
    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert len(lines) == 4
    assert json.loads(lines[1])["findings"] == 0


def test_later_done_clears_failure(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.record("provision", "failed")
    journal.record("provision", "done")
    assert journal.last_failure() is None
    assert journal.completed_steps() == {"provision"}


def test_truncated_last_line_is_skipped_and_next_record_starts_fresh(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.record("check", "done")
    with path.open("a") as fh:
        fh.write('{"ts": "x", "step": "render", "sta')
    assert journal.completed_steps() == {"check"}
    journal.record("render", "done")
    assert journal.completed_steps() == {"check", "render"}
    assert [e.step for e in journal.entries()] == ["check", "render"]


def test_a_line_nested_too_deeply_is_skipped_like_a_broken_one(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.record("check", "done")
    with path.open("a") as fh:
        fh.write("[" * 100_000 + "]" * 100_000 + "\n")
    journal.record("render", "done")
    assert [e.step for e in journal.entries()] == ["check", "render"]


def test_start_run_hides_earlier_runs(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.record("check", "done")
    journal.record("configure", "failed")
    journal.start_run(command="up")
    assert journal.completed_steps() == set()
    assert journal.last_failure() is None
    journal.record("check", "done")
    assert Journal(tmp_path / "journal.jsonl").completed_steps() == {"check"}


def test_missing_file_reads_empty_and_bad_status_is_rejected(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "nested" / "journal.jsonl")
    assert journal.entries() == []
    assert journal.last_failure() is None
    with pytest.raises(ValueError):
        journal.record("check", "finished")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (os.mkfifo, "is a named pipe (FIFO), not a regular file"),
        (lambda p: p.mkdir(), "is a directory, not a regular file"),
        (lambda p: p.write_bytes(b'{"step": "check",\0 "status": "done"}\n'), "contains a NUL"),
    ],
)
def test_a_journal_that_is_not_a_text_file_is_refused_never_waited_on(
    tmp_path: Path, make: Callable[[Path], None], message: str
) -> None:
    path = tmp_path / "journal.jsonl"
    make(path)
    journal = Journal(path)

    with pytest.raises(FileError) as caught:
        journal.entries()
    assert message in caught.value.message
    assert caught.value.exit_code == 2
    assert f"mv {path} {path}.corrupt" in caught.value.fix
    if path.is_file():
        return
    with pytest.raises(FileError) as caught:
        journal.record("check", "done")
    assert message in caught.value.message


def test_a_full_disk_is_said_and_the_journal_goes_on_once_there_is_room(
    small_disk: Path, grow_disk: Callable[..., None]
) -> None:
    journal = Journal(small_disk / "journal.jsonl")
    journal.record("up:check", "done")
    (small_disk / "ballast").write_bytes(b"x" * (16 * 1024 - 4096))

    with pytest.raises(DiskFullError) as caught:
        for _ in range(100):
            journal.record("up:render", "started", note="y" * 200)

    assert caught.value.exit_code == 3
    assert "gpuforge up --resume" in caught.value.fix
    grow_disk(small_disk)
    journal.record("up:render", "done")
    assert journal.entries()[0].step == "up:check"
    assert journal.step_status()["up:render"] == "done"
