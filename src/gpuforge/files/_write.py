"""Write the files gpuforge owns so a crash or a full disk never leaves a half-written one.

`write_atomic` writes a temporary file in the same folder, fsyncs it, renames it over the old
one and fsyncs the folder; with `backup` the same text is also kept as `<name>.bak` (a separate
file, so an edit in place or a torn block of the main one leaves it intact), and
`read_recovering` falls back to it (with a warning) when the main file is corrupt.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gpuforge.errors import DiskFullError, FileError, InputError

__all__ = ["backup_path", "disk_full", "read_recovering", "write_atomic"]

T = TypeVar("T")
log = logging.getLogger("gpuforge")
_FULL = (errno.ENOSPC, errno.EDQUOT)


def backup_path(path: Path) -> Path:
    """Where the previous version of `path` is kept: `<name>.bak` beside it."""
    return path.with_name(path.name + ".bak")


def disk_full(error: OSError, path: Path | None) -> DiskFullError | None:
    """A DiskFullError naming the folder of `path` when `error` is ENOSPC/EDQUOT, else None."""
    if error.errno not in _FULL:
        return None
    where = f" holding {path.parent} (while writing {path.name})" if path else ""
    df = f"`df -h {path.parent}`" if path else "`df -h`"
    return DiskFullError(
        f"no space left on the device{where}",
        f"free space there ({df}), then run the same command again; "
        "`gpuforge up --resume` continues a run that stopped",
    )


def _write_error(error: OSError, path: Path) -> Exception:
    full = disk_full(error, path)
    if full is not None:
        return full
    return InputError(
        f"cannot write {path}: {error.strerror}",
        "make the folder writable by this user, or point gpuforge at another one",
    )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        # A fresh file, never through a link planted under the temporary name.
        tmp.unlink(missing_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(tmp, flags, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, text: str, *, backup: bool = False) -> None:
    """Replace `path` by `text` all at once (temp file, fsync, rename); with `backup`, a second
    copy `<name>.bak` is kept the same way. DiskFullError when the disk is full, InputError when
    the folder is not writable: the files there are then as they were."""
    data = text.encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(path, data)
        if backup:
            _replace(backup_path(path), data)
        _fsync_dir(path.parent)
    except OSError as error:
        raise _write_error(error, path) from None


def read_recovering(path: Path, parse: Callable[[Path], T]) -> T:
    """`parse(path)`, or when that raises FileError (MissingFileError included) and
    `<name>.bak` parses, the backup's value (logged as a warning); else the main file's error."""
    try:
        return parse(path)
    except FileError as error:
        try:
            value = parse(backup_path(path))
        except FileError:
            raise error from None
        log.warning("%s; using its backup %s", error.message, backup_path(path))
        return value
