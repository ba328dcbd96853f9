"""Running host commands and inspecting host processes, with errors the user can act on."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from gpuforge.errors import FleetError


def run_host(
    argv: list[str], *, input_text: str | None = None, what: str = "", fix: str = ""
) -> str:
    """Run a host command and return its stdout; raise FleetError naming `what` on failure."""
    try:
        done = subprocess.run(
            argv, input=input_text, capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise FleetError(f"{what or argv[0]} failed: {error}", fix="check the host") from error
    if done.returncode != 0:
        raise FleetError(
            f"{what or ' '.join(argv)} failed: {done.stderr.strip() or done.stdout.strip()}",
            fix=fix or "check that the kernel supports it and nothing else holds the same name",
        )
    return done.stdout


def start_time(pid: int) -> int:
    """Kernel start time of a process (tells it from a later one with its pid); 0 when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return 0
    return int(fields[19])


def alive(pid: int, started: int = 0) -> bool:
    """Whether a process runs (not a zombie) and, when `started` is given, is the same one."""
    if pid <= 0:
        return False
    now = start_time(pid)
    return now != 0 and (started == 0 or now == started)


def children(pid: int) -> list[int]:
    """Direct children of a process, from /proc (empty when it is gone)."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found.extend(int(x) for x in text.split())
    except OSError:
        return []
    return found


def pids_with_arg(marker: str) -> list[int]:
    """Live processes whose command line contains `marker` (our launchers carry their node dir)."""
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline.split(b"\0") and alive(int(entry)):
            found.append(int(entry))
    return found


def pids_in_pid_ns(ns_link: str) -> list[int]:
    """Live host processes that belong to the pid namespace `ns_link` (e.g. 'pid:[4026532]')."""
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") == ns_link and alive(int(entry)):
                found.append(int(entry))
        except OSError:
            continue
    return found


def kill(pid: int, signal_number: int) -> None:
    """Send a signal, ignoring a process that is already gone."""
    try:
        os.kill(pid, signal_number)
    except ProcessLookupError:
        return
