"""One run per deployment: an exclusive lock file in the deployment folder.

The commands that write into a deployment folder hold this lock for their whole run: `up`,
`destroy` and `validate` (Terraform state, journal, collected facts and reports) and `render`
and `plan` (the rendered files); `backup` holds it while it reads the folder, so it never
archives a run's half-written state. A second one on the same folder is refused with exit 2, naming
who holds the lock since when. `check`, `lock`, `schema`, `rules`, `catalog`, `inventory` and
the `fleet` commands do not write the folder and do not take it.

The lock is `flock` on `<deployment>/run.lock`: the kernel drops it when its process ends, however
it ends. The file records who holds it (command, PID, user, host, start time), for the refusal's
message; a run that ends removes it. A record found under a free lock was left by a process
that is gone (killed, crashed): it is stale, and the next run takes the lock over with a notice.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import socket
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from gpuforge.errors import InputError
from gpuforge.render import make_folder

__all__ = ["RUN_LOCK_FILE", "DeploymentBusyError", "LockHolder", "run_lock"]

RUN_LOCK_FILE = "run.lock"
# A holder's record is a few hundred bytes; more than this is not one of ours.
_MAX_RECORD = 4096


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or held) a deployment's lock: the command, its PID, user, host and start."""

    command: str
    pid: int
    user: str
    host: str
    started: str

    @classmethod
    def me(cls, command: str) -> LockHolder:
        """This process, starting `command` now."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = str(os.getuid())
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return cls(command, os.getpid(), user, socket.gethostname(), started)

    def describe(self) -> str:
        """One line for messages: `gpuforge up` (pid 42, root on host1) since <time>."""
        return f"`{self.command}` (pid {self.pid}, {self.user} on {self.host}) since {self.started}"


class DeploymentBusyError(InputError):
    """Another run holds the deployment's lock: exit 2, nothing was done."""


def _describe_record(raw: bytes) -> str:
    """The holder a lock file's bytes name, described; '' when empty."""
    if not raw.strip():
        return ""
    try:
        data = json.loads(raw)
        return LockHolder(
            command=str(data["command"]),
            pid=int(data["pid"]),
            user=str(data["user"]),
            host=str(data["host"]),
            started=str(data["started"]),
        ).describe()
    except (ValueError, TypeError, KeyError):
        return "a process whose record is unreadable"


def _open(path: Path) -> int:
    """Open (creating) the lock file, never through a symlink; InputError if it cannot be."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise InputError(
            f"cannot open the deployment's run lock {path}: {error}",
            fix=f"make {path.parent} a writable folder of yours (and {path} a regular file)",
        ) from error
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(
            f"the deployment's run lock {path} is not a regular file",
            fix=f"remove {path}; gpuforge creates it again",
        )
    return fd


def _lock(path: Path) -> int:
    """The open, flock-ed lock file at `path`; DeploymentBusyError when a live run holds it.

    A run removes the file as it ends (while it still holds the lock), so a lock taken on a file
    that is no longer the one at `path` is dropped and taken again on the new one.
    """
    while True:
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe_record(os.pread(fd, _MAX_RECORD, 0)) or "another process"
            os.close(fd)
            raise DeploymentBusyError(
                f"deployment {path.parent} is in use by {holder}; one run at a time per cluster",
                fix="wait for that run to end (or stop it: Ctrl-C, or kill its pid), then run "
                "this command again; a lock whose process is gone is taken over by itself",
            ) from None
        held = os.fstat(fd)
        try:
            now = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            now = None
        if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            return fd
        os.close(fd)


@contextmanager
def run_lock(
    folder: Path, command: str, notify: Callable[[str], None] | None = None
) -> Iterator[LockHolder]:
    """Hold `folder`'s run lock for the block, or raise DeploymentBusyError when a live run has it.

    `notify` receives a notice when a stale lock (its process gone) is taken over. The lock file
    is removed when the block ends, so a run leaves nothing behind but what it wrote itself.
    """
    folder = make_folder(folder)
    path = folder / RUN_LOCK_FILE
    fd = _lock(path)
    try:
        stale = _describe_record(os.pread(fd, _MAX_RECORD, 0))
        if stale and notify is not None:
            notify(f"took over the run lock {path} left by {stale}: that process is gone")
        me = LockHolder.me(command)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(asdict(me), sort_keys=True) + "\n").encode(), 0)
        yield me
    finally:
        # Removed before it is unlocked: a run waiting on this file takes it again on a new one.
        path.unlink(missing_ok=True)
        os.close(fd)
