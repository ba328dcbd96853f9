#!/usr/bin/python3 -S
"""The kernel's view of the simulated driver: /proc/driver/nvidia, /proc/modules, /dev nodes.

Nodes share the host kernel, so the node's init bind-mounts files kept under
/var/lib/gpuforge-sim/proc over /proc/driver, /proc/modules and the boot id, and this module
rewrites them (in place: a bind-mounted file keeps its inode) whenever the driver, the loaded
modules or the boot change. Run as a script it syncs once (the node's init does at boot).
"""

from __future__ import annotations

import os
import stat
import sys
import uuid

# Imported by the type checkers only: `typing` alone costs a tool ~11 ms on every call.
TYPE_CHECKING = False

sys.path[:0] = [
    os.path.join(os.environ.get("GPUFORGE_SIM_ROOT", "/"), "usr/lib/gpuforge-sim"),
    os.path.dirname(os.path.abspath(__file__)),
]

if TYPE_CHECKING:
    from gpuforge.fleet.sim.tools import simlib
    from gpuforge.fleet.sim.tools.simlib import Json
else:
    import simlib

PROC = os.path.join(simlib.STATE_DIR, "proc")
VERSION = os.path.join(PROC, "driver/nvidia/version")
MODULES = os.path.join(PROC, "modules")
BOOT_ID = os.path.join(PROC, "boot_id")
LOADED = os.path.join(simlib.STATE_DIR, "modules.loaded")
DEV = os.path.join(simlib.ROOT, "dev")
BUILT = "Thu Sep 25 17:58:42 UTC 2025"
# (name, size, users) of the driver's modules, most dependent first, as /proc/modules lists them.
NVIDIA_MODULES = (
    ("nvidia_uvm", 2076672, ""),
    ("nvidia_drm", 131072, ""),
    ("nvidia_modeset", 1638400, "nvidia_drm,"),
    ("nvidia", 104071168, "nvidia_uvm,nvidia_modeset,"),
)
RDMA_MODULES = {
    "mlx5": ("mlx5_ib", "ib_uverbs", "ib_umad", "mlx5_core", "ib_core"),
    "efa": ("efa", "ib_uverbs", "ib_core"),
}
# Character device majors: nvidia 195 (fixed); uvm, caps and nvswitch get dynamic ones.
NVIDIA_MAJOR, UVM_MAJOR, NVSWITCH_MAJOR, IB_MAJOR = 195, 509, 508, 231


def version_text(driver: Json) -> str:
    """/proc/driver/nvidia/version of a loaded driver."""
    kind = (
        "Open Kernel Module for x86_64"
        if driver.get("flavor") == "open"
        else "x86_64 Kernel Module"
    )
    return (
        f"NVRM version: NVIDIA UNIX {kind}  {driver['version']}  Release Build  "
        f"(dvs-builder@U22-I3-B10-02-5)  {BUILT}\n"
        "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14+deb12u1) \n"
    )


def modules_text(hw: Json, state: Json, loaded: list[str]) -> str:
    """/proc/modules: the RDMA drivers of the node's adapters, the NVIDIA modules, modprobe's."""
    rows: list[tuple[str, int, str, str]] = []
    driver = state.get("driver")
    if driver:
        taint = "(OE)" if driver.get("flavor") == "open" else "(POE)"
        rows += [(n, size, users, taint) for n, size, users in NVIDIA_MODULES]
    kinds = {h["kind"] for h in hw.get("hcas", [])}
    for kind in sorted(kinds):
        rows += [(m, 65536, "", "") for m in RDMA_MODULES.get(kind, ())]
    seen = {r[0] for r in rows}
    for name in loaded:
        module = name.replace("-", "_")
        if module not in seen:
            seen.add(module)
            rows.append((module, 16384, "", ""))
    out = []
    for i, (name, size, users, taint) in enumerate(rows):
        count = users.count(",")
        address = 0xFFFFFFFFC0000000 + i * 0x200000
        tail = f" {taint}" if taint else ""
        out.append(f"{name} {size} {count} {users or '-'} Live 0x{address:016x}{tail}")
    return "".join(f"{line}\n" for line in out)


def _write_in_place(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _node(path: str, major: int, minor: int) -> None:
    try:
        if stat.S_ISCHR(os.stat(path).st_mode):
            return
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    except PermissionError:  # a tool run as a user on a copy of a node root (tests): a marker
        open(path, "w", encoding="utf-8").close()


def device_nodes(hw: Json, state: Json) -> dict[str, tuple[int, int]]:
    """The /dev entries (relative to /dev) the driver and the RDMA drivers create."""
    nodes: dict[str, tuple[int, int]] = {}
    if state.get("driver"):
        for gpu in simlib.present_gpus(hw, state):
            nodes[f"nvidia{gpu['index']}"] = (NVIDIA_MAJOR, gpu["index"])
        nodes["nvidiactl"] = (NVIDIA_MAJOR, 255)
        nodes["nvidia-modeset"] = (NVIDIA_MAJOR, 254)
        nodes["nvidia-uvm"] = (UVM_MAJOR, 0)
        nodes["nvidia-uvm-tools"] = (UVM_MAJOR, 1)
        if hw.get("nvswitch"):
            nodes["nvidia-nvswitchctl"] = (NVSWITCH_MAJOR, 255)
            for i in range(4):
                nodes[f"nvidia-nvswitch{i}"] = (NVSWITCH_MAJOR, i)
    for i, hca in enumerate(hw.get("hcas", [])):
        nodes[f"infiniband/uverbs{i}"] = (IB_MAJOR, 192 + i)
        if hca["kind"] == "mlx5":
            nodes[f"infiniband/umad{i}"] = (IB_MAJOR, i)
            nodes[f"infiniband/issm{i}"] = (IB_MAJOR, 64 + i)
    if hw.get("hcas"):
        nodes["infiniband/rdma_cm"] = (10, 58)
    return nodes


def _sync_dev(wanted: dict[str, tuple[int, int]]) -> None:
    present = []
    if os.path.isdir(DEV):
        present = [n for n in os.listdir(DEV) if n.startswith("nvidia")]
    for name in present:
        if name not in wanted:
            os.unlink(os.path.join(DEV, name))
    for name, (major, minor) in sorted(wanted.items()):
        _node(os.path.join(DEV, name), major, minor)


def _loaded() -> list[str]:
    try:
        with open(LOADED, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    except FileNotFoundError:
        return []


def sync(new_boot: bool = False) -> None:
    """Rewrite the proc files and /dev nodes from the state; `new_boot` draws a new boot id."""
    hw, state = simlib.load_hardware(), simlib.load_state()
    driver = state.get("driver")
    if driver:
        _write_in_place(VERSION, version_text(driver))
    elif os.path.exists(VERSION):
        os.unlink(VERSION)
    _write_in_place(MODULES, modules_text(hw, state, _loaded()))
    if new_boot or not os.path.exists(BOOT_ID):
        _write_in_place(BOOT_ID, f"{uuid.uuid4()}\n")
    _sync_dev(device_nodes(hw, state))


def main(argv: list[str]) -> None:
    """`simkernel.py [--new-boot]`: sync once."""
    sync("--new-boot" in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
