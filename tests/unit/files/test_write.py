"""write_atomic and read_recovering: never half a file, a .bak to fall back on, a full disk said."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from gpuforge.errors import DiskFullError, FileError, InputError, Location, Problem
from gpuforge.files import backup_path, read_recovering, write_atomic


def _parse(path: Path) -> str:
    """A stand-in parser: the text, unless it says "corrupt"."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileError([Problem(Location(str(path)), "no such file")]) from None
    if "corrupt" in text:
        raise FileError([Problem(Location(str(path)), "is corrupt", "restore it")])
    return text


def test_write_keeps_a_separate_copy_and_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.json"
    write_atomic(path, "one\n", backup=True)
    write_atomic(path, "two\n", backup=True)

    assert path.read_text() == backup_path(path).read_text() == "two\n"
    assert os.stat(path).st_ino != os.stat(backup_path(path)).st_ino
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.json", "state.json.bak"]


def test_a_corrupt_file_is_read_from_its_copy_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.json"
    write_atomic(path, "good\n", backup=True)
    with path.open("w") as edited_in_place:
        edited_in_place.write("corrupt\n")

    with caplog.at_level(logging.WARNING, logger="gpuforge"):
        assert read_recovering(path, _parse) == "good\n"

    assert f"{path}: is corrupt; using its backup {path}.bak" in caplog.text


def test_when_both_copies_are_bad_the_main_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("corrupt\n")
    backup_path(path).write_text("corrupt too\n")

    with pytest.raises(FileError) as caught:
        read_recovering(path, _parse)
    assert caught.value.message == f"{path}: is corrupt"


def test_an_unwritable_place_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")

    with pytest.raises(InputError) as caught:
        write_atomic(tmp_path / "file" / "below.json", "{}")
    assert "cannot write" in caught.value.message


def test_a_full_disk_leaves_the_old_file_whole(
    small_disk: Path, grow_disk: Callable[..., None]
) -> None:
    path = small_disk / "gpuforge.json"
    write_atomic(path, "old\n", backup=True)

    with pytest.raises(DiskFullError) as caught:
        write_atomic(path, "x" * 64 * 1024, backup=True)

    assert caught.value.exit_code == 3
    assert caught.value.message == (
        f"no space left on the device holding {small_disk} (while writing gpuforge.json)"
    )
    assert f"df -h {small_disk}" in caught.value.fix
    assert path.read_text() == backup_path(path).read_text() == "old\n"
    assert sorted(p.name for p in small_disk.iterdir()) == [
        "gpuforge.json",
        "gpuforge.json.bak",
    ]
    grow_disk(small_disk, "1m")
    write_atomic(path, "x" * 64 * 1024, backup=True)
    assert path.stat().st_size == 64 * 1024
