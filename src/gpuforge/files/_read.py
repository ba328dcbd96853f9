"""Read a file gpuforge was pointed at, trusting nothing about it.

Only regular files are read (a FIFO would block forever, a device could be endless), never
more than a size cap, as strict UTF-8 without NUL bytes; every refusal names the file and, where
it has one, the line and column.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from gpuforge.errors import FileError, Location, MissingFileError, Problem

__all__ = ["MIB", "not_regular", "position_of", "read_text"]

MIB = 1024 * 1024
_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFLNK: "a symbolic link",
}
_REGULAR_FIX = "point gpuforge at a regular file (not a pipe, directory, socket or device)"


def position_of(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of character `offset` in `text`."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column (in characters) of byte `offset` in mostly-UTF-8 `data`."""
    before = data[:offset].decode("utf-8", "replace")
    return position_of(before, len(before))


def _refuse(path: Path, message: str, fix: str, line: int = 0, column: int = 0) -> FileError:
    return FileError([Problem(Location(str(path), line, column), message, fix)])


def not_regular(path: Path, mode: int) -> FileError | None:
    """The error for `path` when its `st_mode` is not a regular file's (a pipe, a directory...)."""
    if stat.S_ISREG(mode):
        return None
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    return _refuse(path, f"is {kind}, not a regular file", _REGULAR_FIX)


def _check_regular(path: Path, mode: int) -> None:
    error = not_regular(path, mode)
    if error is not None:
        raise error


def _read_bytes(path: Path, max_bytes: int, fix: str, follow_links: bool) -> bytes:
    try:
        _check_regular(path, os.stat(path, follow_symlinks=follow_links).st_mode)
        # O_NONBLOCK: should the path turn into a FIFO between stat and open, open still returns.
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
        fd = os.open(path, flags if follow_links else flags | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise MissingFileError(
            [Problem(Location(str(path)), "no such file", fix="check the path")]
        ) from None
    except OSError as error:
        if error.errno == errno.ENOTDIR:
            raise MissingFileError(
                [Problem(Location(str(path)), "no such file", fix="check the path")]
            ) from None
        access = "make it readable by this user, or run as its owner"
        raise _refuse(path, f"cannot read: {error.strerror}", access) from None
    try:
        status = os.fstat(fd)
        _check_regular(path, status.st_mode)
        if status.st_size > max_bytes:
            raise _refuse(path, f"is larger than {_size(max_bytes)}", fix)
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, MIB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as error:
        raise _refuse(path, f"cannot read: {error.strerror}", fix) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise _refuse(path, f"is larger than {_size(max_bytes)}", fix)
    return data


def _size(count: int) -> str:
    return f"{count // MIB} MiB" if count >= MIB and count % MIB == 0 else f"{count} bytes"


def read_text(path: Path, *, max_bytes: int, fix: str, follow_links: bool = True) -> str:
    """The UTF-8 text of a regular file of at most `max_bytes` (a symlink to one unless
    `follow_links` is False); FileError (MissingFileError when absent) names the file, and the
    line and column of a NUL byte or an invalid UTF-8 sequence."""
    data = _read_bytes(path, max_bytes, fix, follow_links)
    nul = data.find(b"\0")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        if 0 <= nul < error.start:
            raise _refuse(path, "contains a NUL byte", fix, *_byte_position(data, nul)) from None
        line, column = _byte_position(data, error.start)
        raise _refuse(
            path, f"is not valid UTF-8 (byte 0x{data[error.start]:02x})", fix, line, column
        ) from None
    if nul >= 0:
        raise _refuse(path, "contains a NUL byte", fix, *position_of(text, text.index("\0")))
    return text
