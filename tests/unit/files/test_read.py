"""read_text: regular files only (never blocking on a pipe), size-capped, strict UTF-8."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from gpuforge.errors import FileError, MissingFileError
from gpuforge.files import read_text

FIX = "pass a good file"


def _refusal(path: Path, max_bytes: int = 1024) -> str:
    with pytest.raises(FileError) as caught:
        read_text(path, max_bytes=max_bytes, fix=FIX)
    return caught.value.message


def test_a_regular_file_and_a_link_to_one_are_read(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: é\n", encoding="utf-8")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")

    assert read_text(tmp_path / "b.yaml", max_bytes=1024, fix=FIX) == "name: é\n"


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    outcome: list[str] = []
    reader = threading.Thread(target=lambda: outcome.append(_refusal(fifo)), daemon=True)

    reader.start()
    reader.join(timeout=10)

    assert outcome == [f"{fifo}: is a named pipe (FIFO), not a regular file"]


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: p.mkdir(), "a directory"),
        (lambda p: p.symlink_to("/dev/zero"), "a character device"),
        (lambda p: p.symlink_to("/dev/null"), "a character device"),
    ],
)
def test_what_is_not_a_regular_file_is_refused(tmp_path: Path, make: object, kind: str) -> None:
    path = tmp_path / "spec.yaml"
    make(path)  # type: ignore[operator]

    assert _refusal(path) == f"{path}: is {kind}, not a regular file"


def test_a_missing_file_is_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError):
        read_text(tmp_path / "absent.yaml", max_bytes=10, fix=FIX)
    with pytest.raises(MissingFileError):
        read_text(tmp_path / "absent" / "below.yaml", max_bytes=10, fix=FIX)


def test_size_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * 1025)

    assert _refusal(path) == f"{path}: is larger than 1024 bytes"
    assert read_text(path, max_bytes=1025, fix=FIX) == "x" * 1025


def test_nul_and_invalid_utf8_are_located_in_characters(tmp_path: Path) -> None:
    nul = tmp_path / "nul.yaml"
    nul.write_bytes("a: 1\nbé: x\0y\n".encode())
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("a: 1\nbé: ".encode() + "caf\xe9".encode("latin-1"))

    assert _refusal(nul) == f"{nul}:2:6: contains a NUL byte"
    assert _refusal(latin) == f"{latin}:2:8: is not valid UTF-8 (byte 0xe9)"
