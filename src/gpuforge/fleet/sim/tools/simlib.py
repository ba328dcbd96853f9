"""Shared state access for the simulated GPU tools that run inside fleet nodes.

Stdlib only: the tools run under the node's /usr/bin/python3 with no gpuforge installed.
`GPUFORGE_SIM_ROOT` points the tools at another root (tests run them on the host that way).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

    Json = dict[str, Any]

ROOT = os.environ.get("GPUFORGE_SIM_ROOT", "/")
STATE_DIR = os.path.join(ROOT, "var/lib/gpuforge-sim")
HARDWARE = os.path.join(STATE_DIR, "hardware.json")
STATE = os.path.join(STATE_DIR, "state.json")
KMSG = os.path.join(STATE_DIR, "kmsg.log")
LOCK = os.path.join(STATE_DIR, ".lock")


def load_hardware() -> Json:
    """Read the node's fixed hardware description written by seed_node."""
    with open(HARDWARE, encoding="utf-8") as f:
        data: Json = json.load(f)
    return data


def load_state() -> Json:
    """Read the node's mutable state (driver, GPU settings, faults)."""
    with open(STATE, encoding="utf-8") as f:
        data: Json = json.load(f)
    return data


def _write_state(state: Json) -> None:
    tmp = STATE + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1, sort_keys=True)
    os.replace(tmp, STATE)


@contextmanager
def edit_state() -> Iterator[Json]:
    """Lock, load, yield and save the state, so concurrent tool runs never lose an update."""
    with open(LOCK, "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = load_state()
        yield state
        _write_state(state)


def klog(text: str, when: float | None = None) -> None:
    """Append one line to the simulated kernel ring buffer (read by the dmesg stand-in)."""
    stamp = time.time() if when is None else when
    with open(KMSG, "a", encoding="utf-8") as f:
        for line in text.splitlines():
            f.write(f"{stamp:.6f}\t{line}\n")


def read_klog() -> list[tuple[float, str]]:
    """Return the simulated kernel log as (epoch seconds, text) pairs, oldest first."""
    try:
        with open(KMSG, encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t", 1) for line in f]
    except FileNotFoundError:
        return []
    return [(float(r[0]), r[1]) for r in rows if len(r) == 2]


def faults(state: Json, name: str) -> list[Json]:
    """The active faults of one kind, each as its parameter dict."""
    return [f["params"] for f in state.get("faults", []) if f["name"] == name]


def gpu_fault(state: Json, name: str, index: int) -> Json | None:
    """The active fault `name` on physical GPU `index`, or None."""
    for params in faults(state, name):
        if int(params.get("gpu", 0)) == index:
            return params
    return None


def nvlink_down(state: Json) -> set[int]:
    """Physical indexes of the GPUs whose NVLinks are down (the nvlink-down fault)."""
    return {int(params.get("gpu", 0)) for params in faults(state, "nvlink-down")}


def gpu_lost(state: Json, index: int) -> bool:
    """True when physical GPU `index` has fallen off the bus (Xid 79)."""
    for params in faults(state, "xid"):
        if int(params.get("gpu", 0)) == index and int(params.get("code", 79)) == 79:
            return True
    return False


def present_gpus(hw: Json, state: Json) -> list[Json]:
    """GPUs the driver enumerates (a `gpu-missing` one is absent), each with `phys` and `index`."""
    missing = {int(p.get("gpu", 0)) for p in faults(state, "gpu-missing")}
    out: list[Json] = []
    for phys, gpu in enumerate(hw["gpus"]):
        if phys in missing:
            continue
        out.append(dict(gpu, phys=phys, index=len(out)))
    return out


def daemon_alive(name: str) -> bool:
    """True when the simulated daemon `name` recorded a pid that still runs."""
    try:
        with open(os.path.join(STATE_DIR, f"{name}.pid"), encoding="utf-8") as f:
            pid = int(f.read().strip() or "0")
    except (FileNotFoundError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_daemon(name: str) -> None:
    """Record this process as daemon `name` and sleep forever (exec keeps the pid, frees Python)."""
    with open(os.path.join(STATE_DIR, f"{name}.pid"), "w", encoding="utf-8") as f:
        f.write(f"{os.getpid()}\n")
    sys.stdout.flush()
    os.execv("/bin/sleep", ["sleep", "infinity"])


def module_line(driver: Json) -> str:
    """The kernel log line the NVIDIA module prints when it loads."""
    kind = (
        "Open Kernel Module for x86_64"
        if driver.get("flavor") == "open"
        else "x86_64 Kernel Module"
    )
    return (
        f"NVRM: loading NVIDIA UNIX {kind}  {driver['version']}  Release Build  "
        "(dvs-builder@U22-I3-B10-02-5)"
    )


def hostname() -> str:
    """The node's hostname (its UTS namespace gives each node its own)."""
    return os.uname().nodename


def die(message: str, code: int, stream: Any = None) -> NoReturn:
    """Print `message` the way the real tool does and exit with its status."""
    out = sys.stdout if stream is None else stream
    if message:
        out.write(message if message.endswith("\n") else message + "\n")
    out.flush()
    raise SystemExit(code)


def gpu_apps_dir() -> str:
    """Where simulated compute processes register (tools/gpu_app.py), one PID.json each."""
    return os.path.join(STATE_DIR, "gpu-apps")


def gpu_apps() -> list[Json]:
    """The registered compute processes still alive, with their argv[0] as `name`, by PID."""
    folder = gpu_apps_dir()
    try:
        entries = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    apps = []
    for entry in entries:
        if not entry.endswith(".json"):
            continue
        try:
            with open(os.path.join(folder, entry), encoding="utf-8") as f:
                app: Json = json.load(f)
            with open(f"/proc/{int(app['pid'])}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0", 1)[0].decode("utf-8", "replace")
        except (OSError, ValueError, KeyError):
            continue
        apps.append({**app, "name": argv0 or "?"})
    return sorted(apps, key=lambda app: int(app["pid"]))


def gpu_app_util(index: int) -> int:
    """The utilisation (%) the compute processes on GPU `index` cause: the busiest one's."""
    return max((int(a["util"]) for a in gpu_apps() if int(a["gpu"]) == index), default=0)
