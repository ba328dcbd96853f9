"""Seed a node's root with its simulated hardware, power-on state and pre-installed tools."""

from __future__ import annotations

import json
import py_compile
import re
import time
import warnings
from pathlib import Path
from typing import Any

from gpuforge.fleet.sim._hardware import HardwareProfile

TOOLS_DIR = Path(__file__).parent / "tools"
STATE_DIR = Path("var/lib/gpuforge-sim")
LIB_DIR = Path("usr/lib/gpuforge-sim")
# Tools every machine has before any NVIDIA package: the kernel log reader (the host's dmesg
# would show the shared host kernel) and the simulated power cycle.
BASE_TOOLS = {"usr/bin/dmesg": "dmesg.py", "usr/sbin/gpuforge-sim-reboot": "sim_reboot.py"}
# The host's `systemctl` stand-in (Debian's `systemctl` package) is one 4,600-line Python script
# that Python compiles again on every call, ~40 of its ~60 ms. Nodes run the same code as a module
# from LIB_DIR instead, whose bytecode Python caches, and skip site-packages (`-S`): every
# service task of a play calls it a few times on every node.
HOST_SYSTEMCTL = Path("/usr/bin/systemctl")
# It also waits 0.5 s after starting a Type=simple service to see that it stayed up; the
# simulated daemons are up within milliseconds, so nodes wait 0.1 s per start instead.
SYSTEMCTL_YIELD = (re.compile(r"^MinimumYield = 0\.5\b", re.M), "MinimumYield = 0.1")
SYSTEMCTL_MODULE = "gpuforge_systemctl"
SYSTEMCTL_LAUNCHER = f"""#!/usr/bin/python3 -S
# gpuforge node: the host's {HOST_SYSTEMCTL}, run from {LIB_DIR.as_posix()} with cached bytecode.
import runpy
import sys

sys.path.insert(0, "/{LIB_DIR.as_posix()}")
runpy.run_module("{SYSTEMCTL_MODULE}", run_name="__main__")
"""


def power_on_gpu_state(profile: HardwareProfile) -> list[dict[str, Any]]:
    """Per-GPU settings right after boot: persistence off, Default mode, default limit, no MIG."""
    return [
        {
            "persistence": False,
            "compute_mode": "Default",
            "power_limit_w": profile.gpu.power_default_w,
            "locked_clocks": None,
            "app_clocks": None,
            "mig": False,
            "mig_pending": False,
            "gis": [],
        }
        for _ in range(profile.gpu_count)
    ]


def tool_launcher(tool: str) -> str:
    """The text of a node's command for `tool` (a file in TOOLS_DIR): it runs the module's main.

    Run as a script, a tool would be compiled again on every call; imported from LIB_DIR, its
    bytecode is cached like that of the modules it imports.
    """
    module = tool.removesuffix(".py")
    return f"""#!/usr/bin/python3 -S
# gpuforge node: runs {module} from /{LIB_DIR.as_posix()}, whose bytecode Python caches.
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("GPUFORGE_SIM_ROOT", "/"), "{LIB_DIR.as_posix()}"))
from {module} import main

main(sys.argv[1:])
"""


def _install(text: str, dest: Path, mode: int = 0o755) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".gpuforge-tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(mode)
    tmp.replace(dest)


def install_tool_library(root: Path) -> None:
    """Copy the stdlib-only tool modules to /usr/lib/gpuforge-sim, where the launchers find them.

    Compiled here, so that even a node's first call loads bytecode.
    """
    for src in sorted(TOOLS_DIR.glob("*.py")):
        dest = root / LIB_DIR / src.name
        _install(src.read_text(encoding="utf-8"), dest, 0o644)
        py_compile.compile(str(dest), doraise=True)


def install_fast_systemctl(root: Path, host_systemctl: Path = HOST_SYSTEMCTL) -> bool:
    """Shadow a Python `systemctl` stand-in with a launcher of its cached bytecode.

    Returns False (and installs nothing) when `host_systemctl` is not a Python script.
    """
    try:
        text = host_systemctl.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if not (text.startswith("#!") and "python" in text.splitlines()[0]):
        return False
    module = root / LIB_DIR / f"{SYSTEMCTL_MODULE}.py"
    pattern, replacement = SYSTEMCTL_YIELD
    _install(pattern.sub(replacement, text, count=1), module, 0o644)
    # Compiled here so the first call in the node is fast too (a node Python of another
    # version ignores this bytecode and compiles its own).
    with warnings.catch_warnings():  # its invalid escape sequences are not ours to report
        warnings.simplefilter("ignore")
        py_compile.compile(str(module), doraise=True)
    _install(SYSTEMCTL_LAUNCHER, root / "usr/bin/systemctl")
    return True


def _empty_apt_sources(root: Path) -> None:
    apt = root / "etc/apt"
    (apt / "sources.list.d").mkdir(parents=True, exist_ok=True)
    (apt / "sources.list").write_text("")
    host_lists = Path("/etc/apt/sources.list.d")
    names = {p.name for p in host_lists.iterdir()} if host_lists.is_dir() else set()
    names |= {p.name for p in (apt / "sources.list.d").iterdir()}
    for name in sorted(names):
        target = apt / "sources.list.d" / name
        if target.is_symlink() or target.exists():
            target.unlink()
        target.write_text("")


def seed_node(root: Path, profile: HardwareProfile, node_name: str, node_index: int) -> None:
    """Write a node's hardware.json, power-on state.json, kernel log, tools; empty APT sources.

    `root` is the node's overlay upper dir (or its root seen from the host): `root/x` is `/x`.
    """
    state_dir = root / STATE_DIR
    state_dir.mkdir(parents=True, exist_ok=True)
    hardware = profile.hardware_json(node_name, node_index)
    (state_dir / "hardware.json").write_text(json.dumps(hardware, indent=1, sort_keys=True))
    now = time.time()
    state: dict[str, Any] = {
        "boot_time": now,
        "boot_count": 1,
        "driver": None,
        "software": {},
        "gpus": power_on_gpu_state(profile),
        "faults": [],
    }
    (state_dir / "state.json").write_text(json.dumps(state, indent=1, sort_keys=True))
    boot = [
        f"{now:.6f}\tLinux version 6.1.0-gpuforge-sim (gpuforge simulated node {node_name})",
        f"{now + 0.2:.6f}\tpci 0000:00:00.0: [8086:09a2] type 00 class 0x088000",
    ]
    boot += [
        f"{now + 0.3:.6f}\tpci {g['bus_id'][4:].lower()}: [10de:{g['pci_device_id'][2:6].lower()}] "
        "type 00 class 0x030200"
        for g in hardware["gpus"]
    ]
    (state_dir / "kmsg.log").write_text("\n".join(boot) + "\n")
    install_tool_library(root)
    for dest, name in BASE_TOOLS.items():
        _install(tool_launcher(name), root / dest)
    install_fast_systemctl(root)
    _empty_apt_sources(root)
