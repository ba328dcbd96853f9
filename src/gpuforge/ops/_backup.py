"""Back up a deployment (state and its copies, journal, rendered files, lock) and restore it.

The archive is a tar.gz holding `manifest.json` (format version, cluster name, cluster id when
the deployment records one, and every file with its size and sha256), `deployment/...` (the
deployment folder without Terraform's reinstallable `.terraform/` folders) and `lock/<name>`
(the spec's lock). `restore` trusts nothing in it: every member is checked against the manifest
before anything is written, files are unpacked into a fresh folder beside the deployment folder
and moved into place only when all of them match; then `init` lays out each Terraform root's
providers again, as they are not in the archive.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from gpuforge.errors import InputError
from gpuforge.files import disk_full, write_atomic
from gpuforge.fleet import parse_cluster_id
from gpuforge.ops._owner import CLUSTER_ID_FILE
from gpuforge.ops._runlock import RUN_LOCK_FILE, run_lock
from gpuforge.provision import Engine, discover_roots
from gpuforge.render import FOLDER_MODE, check_folder, inside

__all__ = [
    "ARCHIVE_FORMAT",
    "BackupResult",
    "RestoreResult",
    "create_backup",
    "default_archive",
    "restore_backup",
]

ARCHIVE_FORMAT = 1
ARCHIVE_MANIFEST = "manifest.json"
_DEPLOYMENT = "deployment"
_LOCK = "lock"
# Provider plugins and module copies: `terraform init` lays them out again.
_SKIPPED_FOLDER = ".terraform"
# Unpacked size at most: an archive that claims more is refused before anything is written.
MAX_RESTORE_BYTES = 2 * 1024**3
_MAX_MANIFEST_BYTES = 16 * 1024**2
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


@dataclass(frozen=True)
class BackupResult:
    """What `backup` wrote: the archive and the files in it."""

    archive: Path
    cluster: str
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view for `--json`."""
        return {"archive": str(self.archive), "cluster": self.cluster, "files": self.files}


@dataclass(frozen=True)
class RestoreResult:
    """What `restore` put back: the deployment folder, the lock (when written) and the files."""

    deployment: Path
    lock: Path | None
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view for `--json`."""
        lock = str(self.lock) if self.lock else None
        return {"deployment": str(self.deployment), "lock": lock, "files": self.files}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_file(path: Path) -> bytes:
    """A regular file's bytes, never through a symlink nor waiting on a pipe."""
    fd = os.open(path, _READ_FLAGS)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(
                f"{path} is not a regular file", "remove it from the deployment folder"
            )
        return handle.read()


def _deployment_files(root: Path) -> dict[str, Path]:
    """Every file of the deployment folder by its relative path (not `.terraform/`, `run.lock`)."""
    check_folder(root)
    found: dict[str, Path] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != _SKIPPED_FOLDER)
        for name in sorted(files):
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if rel != RUN_LOCK_FILE:  # who runs gpuforge on it now: not part of the deployment
                found[rel] = path
    return found


def _cluster_id(root: Path) -> str | None:
    """The deployment's cluster id (its claim on its nodes), if it has one."""
    try:
        return parse_cluster_id(_read_file(root / CLUSTER_ID_FILE).decode("ascii").strip())
    except (OSError, UnicodeDecodeError, InputError):
        return None


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def default_archive(cluster: str) -> Path:
    """`<cluster>-backup-<UTC time>.tar.gz` in the current folder."""
    return Path.cwd() / f"{cluster}-backup-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.tar.gz"


def create_backup(
    root: Path,
    lock: Path,
    cluster: str,
    archive: Path,
    notify: Callable[[str], None] | None = None,
) -> BackupResult:
    """Write an owner-only archive of deployment folder `root` and `lock`; refuse to overwrite.

    Holds the deployment's run lock while it reads, so it never archives a run's half-written
    state; DeploymentBusyError (exit 2) while another run holds it. `notify` is run_lock's.
    """
    if not root.is_dir():
        raise InputError(
            f"there is no deployment folder {root} to back up",
            "run `gpuforge up` first, or pass the folder that holds it as --deploy-dir",
        )
    if archive.exists() or archive.is_symlink():
        raise InputError(f"{archive} already exists", "pass another name with -o, or move it")
    with run_lock(root, "gpuforge backup", notify):
        return _write_backup(root, lock, cluster, archive)


def _write_backup(root: Path, lock: Path, cluster: str, archive: Path) -> BackupResult:
    """The archive of `root` and `lock`, written while the caller holds the run lock."""
    members: dict[str, tuple[bytes, int]] = {}
    for rel, path in _deployment_files(root).items():
        mode = 0o700 if path.stat().st_mode & stat.S_IXUSR else 0o600
        members[f"{_DEPLOYMENT}/{rel}"] = (_read_file(path), mode)
    if lock.is_file():
        members[f"{_LOCK}/{lock.name}"] = (_read_file(lock), 0o600)
    manifest = {
        "format": ARCHIVE_FORMAT,
        "cluster": cluster,
        "cluster_id": _cluster_id(root),
        "files": [
            {"path": name, "size": len(data), "sha256": _sha256(data)}
            for name, (data, _) in sorted(members.items())
        ],
    }
    tmp = archive.with_name(f".{archive.name}.{os.getpid()}.tmp")
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(tmp, flags, 0o600), "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                text = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
                _add(tar, ARCHIVE_MANIFEST, text, 0o600)
                for name, (data, mode) in sorted(members.items()):
                    _add(tar, name, data, mode)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, archive)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise disk_full(error, archive) or InputError(
            f"cannot write {archive}: {error.strerror or error}",
            "pass a writable place with -o",
        ) from None
    return BackupResult(archive=archive, cluster=cluster, files=sorted(members))


# ---- restore ----


def _refuse(archive: Path, what: str, fix: str) -> InputError:
    return InputError(f"refusing to restore {archive}: {what}", fix)


_FOREIGN_FIX = "pass an archive written by `gpuforge backup` for this cluster"


def _member_name(archive: Path, member: tarfile.TarInfo) -> str:
    """The member's checked name: relative, no `..`, under deployment/ or lock/, a plain file."""
    try:
        path = inside(member.name, f"the archive {archive}")
    except InputError:
        raise _refuse(
            archive,
            f"the member {member.name!r} is an absolute path or leaves its folder with '..'",
            _FOREIGN_FIX,
        ) from None
    if not (member.isfile() or member.isdir()):
        kind = "a symlink" if member.issym() else "a hard link" if member.islnk() else None
        kind = kind or ("a device or FIFO" if member.isdev() else "not a regular file")
        raise _refuse(archive, f"the member {member.name!r} is {kind}", _FOREIGN_FIX)
    top = path.parts[0]
    if str(path) != ARCHIVE_MANIFEST and (top not in (_DEPLOYMENT, _LOCK) or len(path.parts) < 2):
        raise _refuse(archive, f"the member {member.name!r} is not part of a backup", _FOREIGN_FIX)
    if top == _LOCK and len(path.parts) != 2:
        raise _refuse(archive, f"the member {member.name!r} is not part of a backup", _FOREIGN_FIX)
    return str(path)


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    return handle.read() if handle is not None else b""


def _manifest(archive: Path, data: bytes, cluster: str) -> dict[str, dict[str, Any]]:
    """The files the manifest lists (path -> size, sha256), after its format and cluster."""
    try:
        manifest = json.loads(data)
    except (ValueError, RecursionError) as error:
        reason = "it nests too deeply" if isinstance(error, RecursionError) else str(error)
        raise _refuse(archive, f"{ARCHIVE_MANIFEST} is not JSON ({reason})", _FOREIGN_FIX) from None
    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise _refuse(
            archive,
            f"{ARCHIVE_MANIFEST} has format {found!r}; this gpuforge reads format {ARCHIVE_FORMAT}",
            "restore it with the gpuforge version that wrote it, or pass another archive",
        )
    if manifest.get("cluster") != cluster:
        raise _refuse(
            archive,
            f"it is a backup of cluster {manifest.get('cluster')!r}, not of {cluster!r}",
            f"pass a backup of {cluster}, or restore it with that cluster's spec",
        )
    files: dict[str, dict[str, Any]] = {}
    for entry in manifest.get("files") or []:
        ok = isinstance(entry, dict) and isinstance(entry.get("path"), str)
        ok = ok and isinstance(entry.get("size"), int) and isinstance(entry.get("sha256"), str)
        if not ok:
            raise _refuse(archive, f"{ARCHIVE_MANIFEST} has a malformed file entry", _FOREIGN_FIX)
        files[entry["path"]] = entry
    return files


def _check_gzip(archive: Path) -> None:
    """Read the whole gzip stream, so a damaged or cut-short archive fails its CRC or length."""
    with gzip.open(archive, "rb") as stream:
        total = 0
        while chunk := stream.read(1024 * 1024):
            total += len(chunk)
            if total > MAX_RESTORE_BYTES + _MAX_MANIFEST_BYTES:
                raise _refuse(archive, "it unpacks to more than 2 GiB", _FOREIGN_FIX)


def _verified(archive: Path, cluster: str) -> dict[str, tuple[bytes, int]]:
    """Every file of the archive (name -> bytes, mode), checked against its manifest."""
    data: dict[str, tuple[bytes, int]] = {}
    manifest: bytes | None = None
    total = 0
    try:
        _check_gzip(archive)
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                name = _member_name(archive, member)
                if member.isdir():
                    continue
                total += member.size
                if (
                    total > MAX_RESTORE_BYTES
                    or name in data
                    or (name == ARCHIVE_MANIFEST and manifest is not None)
                ):
                    raise _refuse(
                        archive, f"the member {name!r} is repeated or too large", _FOREIGN_FIX
                    )
                if name == ARCHIVE_MANIFEST:
                    if member.size > _MAX_MANIFEST_BYTES:
                        raise _refuse(archive, f"{ARCHIVE_MANIFEST} is too large", _FOREIGN_FIX)
                    manifest = _read_member(tar, member)
                else:
                    data[name] = (_read_member(tar, member), member.mode & 0o700)
    except FileNotFoundError:
        raise InputError(f"{archive}: no such file", "pass the path of a backup archive") from None
    except IsADirectoryError:
        raise InputError(f"{archive} is a folder", "pass the path of a backup archive") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise _refuse(
            archive,
            f"it is not a readable tar.gz, or it is truncated or corrupt ({error})",
            "pass an intact archive written by `gpuforge backup` (copy it again)",
        ) from None
    if manifest is None:
        raise _refuse(archive, f"it has no {ARCHIVE_MANIFEST}", _FOREIGN_FIX)
    listed = _manifest(archive, manifest, cluster)
    extra = sorted(set(data) - set(listed))
    if extra:
        raise _refuse(archive, f"the member {extra[0]!r} is not in its manifest", _FOREIGN_FIX)
    missing = sorted(set(listed) - set(data))
    if missing:
        raise _refuse(archive, f"the manifest lists {missing[0]!r}, which it lacks", _FOREIGN_FIX)
    for name, (content, _) in sorted(data.items()):
        if _sha256(content) != listed[name]["sha256"] or len(content) != listed[name]["size"]:
            raise _refuse(
                archive,
                f"the checksum of {name!r} does not match its manifest (the archive was changed "
                "or damaged)",
                "pass an intact archive written by `gpuforge backup` (copy it again)",
            )
    return data


def _unpack(staging: Path, files: dict[str, tuple[bytes, int]]) -> None:
    """Write the files into a fresh folder (owner-only), refusing to follow or reuse anything."""
    staging.mkdir(mode=FOLDER_MODE)
    for name, (content, mode) in sorted(files.items()):
        path = staging / PurePosixPath(name)
        path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with os.fdopen(os.open(path, flags, mode | 0o600), "wb") as handle:
            handle.write(content)
        if _sha256(path.read_bytes()) != _sha256(content):
            raise InputError(f"{path} did not read back as written", "check the disk, then retry")


def restore_backup(
    archive: Path, root: Path, lock: Path, cluster: str, *, init: bool = True
) -> RestoreResult:
    """Put the deployment folder `root` and a missing `lock` back from `archive`, then (with
    `init`) run `terraform init` in each root so `validate` and `output` work at once.

    Refused (InputError, nothing written) when the folder already holds files, the archive is
    corrupt, truncated or another cluster's, or a member is unsafe or not as its manifest says.
    """
    if root.is_symlink() or (root.exists() and (not root.is_dir() or any(root.iterdir()))):
        raise InputError(
            f"the deployment folder {root} already exists; restore never overwrites one",
            f"move it away (`mv {root} {root}.old`) and run restore again",
        )
    files = _verified(archive, cluster)
    prefix = f"{_DEPLOYMENT}/"
    deployment = {k[len(prefix) :]: v for k, v in files.items() if k.startswith(prefix)}
    locks = {PurePosixPath(k).name: v[0] for k, v in files.items() if k.startswith(f"{_LOCK}/")}
    lock_text = locks.get(lock.name)
    if lock_text is not None and lock.is_file() and lock.read_bytes() != lock_text:
        raise InputError(
            f"{lock} differs from the lock in {archive}",
            "keep the one in version control: check it out as it was at the backup "
            f"(`git log -- {lock.name}`), or move it away to take the archive's",
        )
    root.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.restore-", dir=root.parent))
    try:
        _unpack(staging / "folder", deployment)
        if root.exists():
            root.rmdir()
        os.rename(staging / "folder", root)
    except OSError as error:
        raise disk_full(error, root) or InputError(
            f"cannot restore into {root}: {error.strerror or error}",
            "check that its parent folder is writable",
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    written = None
    if lock_text is not None and not lock.is_file():
        write_atomic(lock, lock_text.decode("utf-8"))
        written = lock
    for found in discover_roots(root) if init else []:
        Engine(found.path).init()
    return RestoreResult(deployment=root, lock=written, files=sorted(files))
