"""Checks that this host can run a fleet, each failing with what is missing and how to fix it."""

from __future__ import annotations

import os
import shutil
from functools import cache
from pathlib import Path

from gpuforge.errors import FleetError, ToolMissingError

_TOOLS = {
    "ip": "iproute2",
    "unshare": "util-linux",
    "nsenter": "util-linux",
    "setpriv": "util-linux",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "mount": "mount",
}
_NAMESPACES = {
    "net": "CONFIG_NET_NS",
    "mnt": "mount namespaces",
    "pid": "CONFIG_PID_NS",
    "uts": "CONFIG_UTS_NS",
    "ipc": "CONFIG_IPC_NS",
}


def require_root() -> None:
    """Fail clearly unless running as root: namespaces, mounts and bridges need it."""
    if os.geteuid() != 0:
        raise FleetError(
            "the local fleet needs root (network namespaces, overlay mounts, bridges)",
            fix="run the command as root, e.g. `sudo gpuforge fleet ...`",
        )


@cache
def check_host() -> None:
    """Check root, tools and kernel features once per process; raise naming the first gap."""
    require_root()
    for tool, package in _TOOLS.items():
        if shutil.which(tool) is None:
            raise ToolMissingError(f"`{tool}` is not installed", fix=f"apt-get install {package}")
    if not Path("/usr/sbin/sshd").exists():
        raise ToolMissingError("sshd is not installed", fix="apt-get install openssh-server")
    for name, feature in _NAMESPACES.items():
        if not Path(f"/proc/self/ns/{name}").exists():
            raise FleetError(
                f"the kernel lacks {name} namespaces", fix=f"use a kernel built with {feature}"
            )
    filesystems = Path("/proc/filesystems").read_text()
    if "overlay" not in filesystems.split():
        raise FleetError(
            "the kernel lacks overlayfs", fix="run `modprobe overlay` or use a kernel with it"
        )
    if "devpts" not in filesystems.split() or "tmpfs" not in filesystems.split():
        raise FleetError("the kernel lacks devpts or tmpfs", fix="use a standard Linux kernel")
