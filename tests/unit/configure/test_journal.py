"""The journal: append-only, resumable, and robust to a torn last line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpuforge.configure import Journal


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
