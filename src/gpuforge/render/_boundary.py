"""The deployment folder is a boundary: gpuforge reads, writes and deletes only inside it.

Every path is relative (no absolute path, no `..`), every folder on the way is opened without
following symlinks, and a symlink anywhere in the folder is refused, so neither a path listed in
gpuforge.json nor a planted symlink can send a write or a delete outside the folder. Folders are
created 0700: the folder holds Terraform state, the journal and Ansible's artifacts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePosixPath

from gpuforge.errors import GpuforgeError, InputError
from gpuforge.files import disk_full, not_regular

__all__ = [
    "FOLDER_MODE",
    "check_folder",
    "folder_inside",
    "inside",
    "make_folder",
    "no_link_below",
    "read_inside",
    "remove_inside",
    "remove_tree_inside",
    "replace_inside",
    "write_inside",
]

FOLDER_MODE = 0o700
# Terraform's own working folder: an unpacked provider mirror or plugin cache is linked into it.
_TERRAFORM_WORKDIR = ".terraform"
_FolderContext = AbstractContextManager[int | None]
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _fix(root: Path) -> str:
    return (
        f"remove the symlink and run the command again; gpuforge keeps only real files and "
        f"folders in {root}. To keep the deployment elsewhere, pass that folder as --deploy-dir"
    )


def _symlink_error(root: Path, path: Path) -> InputError:
    return InputError(
        f"{path} is a symlink inside the deployment folder {root}; gpuforge never follows one",
        _fix(root),
    )


def inside(rel: str | PurePosixPath, source: str = "the deployment") -> PurePosixPath:
    """`rel` as a path inside the folder; refuses absolute paths, `..` and control characters.

    `source` names where the path came from (e.g. the manifest file) for the error.
    """
    text = str(rel)
    path = PurePosixPath(text)
    if (
        not text
        or path.is_absolute()
        or any(part in ("..", ".") for part in PurePosixPath(text).parts)
        or any(ord(c) < 32 for c in text)
        or text.startswith("~")
    ):
        raise InputError(
            f"{source} lists the path {text!r}, which is not inside the deployment folder",
            "paths must be relative to the deployment folder, without '..'; delete the file "
            "that lists it and render again",
        )
    return path


def no_link_below(base: Path, rel: str) -> Path:
    """`base/rel`, refusing a symlink at any step below `base` (e.g. `.deploy/<cluster>`)."""
    path = base
    for part in inside(rel).parts:
        path = path / part
        if path.is_symlink():
            raise InputError(
                f"{path} is a symlink; gpuforge never follows one on the way to the deployment "
                "folder",
                "remove the symlink and run the command again; to keep the deployment "
                "elsewhere, pass that folder as --deploy-dir",
            )
    return path


def make_folder(root: Path) -> Path:
    """Create the deployment folder (0700) if needed and return it resolved; refuse a non-folder."""
    root = root.expanduser().resolve()
    try:
        root.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(
            f"the deployment folder {root} exists and is not a folder",
            "move that file away or pass another --deploy-dir",
        ) from None
    except OSError as error:
        raise InputError(
            f"cannot create the deployment folder {root}: {error.strerror}",
            "check permissions, or pass another --deploy-dir",
        ) from None
    return root


def check_folder(root: Path) -> None:
    """Refuse a deployment folder holding a symlink anywhere (but in Terraform's .terraform)."""
    if not root.exists():
        return
    if not root.is_dir():
        raise InputError(
            f"the deployment folder {root} is not a folder",
            "move that file away or pass another --deploy-dir",
        )
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder)
        for name in [*dirs, *files]:
            if (base / name).is_symlink():
                raise _symlink_error(root, base / name)
        dirs[:] = sorted(d for d in dirs if d != _TERRAFORM_WORKDIR)


def _open_parent(root: Path, rel: PurePosixPath, create: bool) -> _FolderContext:
    """A descriptor of `rel`'s parent folder, reached without following any symlink."""
    return _open_folder(root, rel.parts[:-1], create)


@contextmanager
def _open_folder(root: Path, parts: tuple[str, ...], create: bool) -> Iterator[int | None]:
    """A descriptor of the folder root/parts..., reached without following any symlink.

    Yields None when a folder on the way is missing and `create` is False.
    """
    try:
        fd = os.open(root.resolve(), _DIR_FLAGS)
    except FileNotFoundError:
        if create:
            raise
        yield None
        return
    try:
        here = root
        for part in parts:
            here = here / part
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    yield None
                    return
                os.mkdir(part, FOLDER_MODE, dir_fd=fd)
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError:
                if stat.S_ISLNK(os.lstat(part, dir_fd=fd).st_mode):
                    raise _symlink_error(root, here) from None
                raise
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _refuse_link(root: Path, rel: PurePosixPath, parent: int) -> bool:
    """Whether `rel` exists in `parent`; raises when it is a symlink."""
    try:
        mode = os.lstat(rel.name, dir_fd=parent).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(mode):
        raise _symlink_error(root, root / rel)
    return True


def _io_error(root: Path, rel: PurePosixPath, error: OSError) -> GpuforgeError:
    return disk_full(error, root / rel) or InputError(
        f"cannot write {rel} in the deployment folder {root}: {error.strerror or error}",
        "check the folder's permissions",
    )


def read_inside(root: Path, rel: str | PurePosixPath) -> str | None:
    """The text of a file inside the folder, or None when it does not exist."""
    path = inside(rel)
    try:
        with _open_parent(root, path, create=False) as parent:
            if parent is None or not _refuse_link(root, path, parent):
                return None
            # O_NONBLOCK and the check after it: a pipe planted here is refused, never waited on.
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
            fd = os.open(path.name, flags, dir_fd=parent)
            with os.fdopen(fd, encoding="utf-8") as handle:
                odd = not_regular(root / path, os.fstat(fd).st_mode)
                if odd is not None:
                    raise odd
                return handle.read()
    except (IsADirectoryError, UnicodeDecodeError):
        return None
    except OSError as error:
        raise _io_error(root, path, error) from None


def write_inside(root: Path, rel: str | PurePosixPath, text: str, mode: int = 0o644) -> None:
    """Write `text` to a file inside the folder, creating its folders; never through a symlink."""
    path = inside(rel)
    try:
        with _open_parent(root, path, create=True) as parent:
            assert parent is not None
            _refuse_link(root, path, parent)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(path.name, flags, mode, dir_fd=parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
    except OSError as error:
        raise _io_error(root, path, error) from None


def replace_inside(root: Path, rel: str | PurePosixPath, text: str, mode: int = 0o600) -> None:
    """Replace a file inside the folder all at once (temp file, fsync, rename, fsync of its
    folder), creating its folders; never through a symlink. A crash leaves the old or the new."""
    path = inside(rel)
    tmp = f".{path.name}.{os.getpid()}.tmp"
    try:
        with _open_parent(root, path, create=True) as parent:
            assert parent is not None
            _refuse_link(root, path, parent)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=parent)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(tmp, flags, mode, dir_fd=parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, path.name, src_dir_fd=parent, dst_dir_fd=parent)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp, dir_fd=parent)
                raise
            os.fsync(parent)
    except OSError as error:
        raise _io_error(root, path, error) from None


def remove_inside(root: Path, rel: str | PurePosixPath) -> bool:
    """Delete one file inside the folder (a symlink is refused); True when it existed."""
    path = inside(rel)
    try:
        with _open_parent(root, path, create=False) as parent:
            if parent is None or not _refuse_link(root, path, parent):
                return False
            os.unlink(path.name, dir_fd=parent)
            return True
    except OSError as error:
        raise _io_error(root, path, error) from None


def folder_inside(root: Path, rel: str | PurePosixPath) -> Path:
    """Create a folder (and those above it) inside the deployment folder; return its path."""
    path = inside(rel)
    try:
        with _open_folder(root, path.parts, create=True):
            return root / path
    except OSError as error:
        raise _io_error(root, path, error) from None


def remove_tree_inside(root: Path, rel: str | PurePosixPath) -> None:
    """Delete a folder inside the deployment folder and everything in it, following no symlink."""
    path = inside(rel)
    try:
        with _open_parent(root, path, create=False) as parent:
            if parent is None or not _refuse_link(root, path, parent):
                return
            shutil.rmtree(path.name, dir_fd=parent)
    except OSError as error:
        raise _io_error(root, path, error) from None
