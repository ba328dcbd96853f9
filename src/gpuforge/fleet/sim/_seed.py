"""Seed a node's root with its simulated hardware, power-on state and pre-installed tools."""

from __future__ import annotations

import hashlib
import json
import os
import py_compile
import re
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from gpuforge.errors import FleetError
from gpuforge.fleet.sim._hardware import HardwareProfile

TOOLS_DIR = Path(__file__).parent / "tools"
STATE_DIR = Path("var/lib/gpuforge-sim")
LIB_DIR = Path("usr/lib/gpuforge-sim")
# Tools every machine has before any NVIDIA package, in place of the host's, which would show the
# shared host kernel and machine: the kernel log and journal readers, `lspci`, `modinfo` (the
# NVIDIA modules; others go to the host's kmod), the simulated power cycle behind
# `shutdown -r` and `reboot`, and the instance metadata service the node's init starts.
BASE_TOOLS = {
    "usr/bin/dmesg": "dmesg.py",
    "usr/bin/journalctl": "journalctl.py",
    "usr/bin/lspci": "lspci.py",
    "usr/sbin/modinfo": "modinfo.py",
    "usr/sbin/shutdown": "shutdown.py",
    "usr/sbin/reboot": "shutdown.py",
    "usr/sbin/gpuforge-sim-reboot": "sim_reboot.py",
    "usr/sbin/gpuforge-sim-metadata": "metadata.py",
}
# Kept here, bind-mounted by the node's init over /proc/driver, /proc/modules and the boot id,
# and rewritten by the tools (tools/simkernel.py).
PROC_DIR = STATE_DIR / "proc"
# Nodes run Debian's daemonless `systemctl` stand-in (the `systemctl` package, one 4,600-line
# Python script), never the host's /usr/bin/systemctl, which is systemd's on most machines. Set-up
# unpacks the package's script to STAND_IN_SYSTEMCTL without installing the package (it conflicts
# with systemd). Python would compile the script again on every call, ~40 of its ~60 ms: nodes run
# it as a module from LIB_DIR instead, whose bytecode Python caches, and skip site-packages (`-S`):
# every service task of a play calls it a few times on every node.
STAND_IN_SYSTEMCTL = Path("/var/cache/gpuforge/systemctl/systemctl")
STAND_IN_SYSTEMCTL_ENV = "GPUFORGE_NODE_SYSTEMCTL"
# It also waits 0.5 s after starting a Type=simple service to see that it stayed up; the
# simulated daemons are up within milliseconds, so nodes wait 0.1 s per start instead.
SYSTEMCTL_YIELD = (re.compile(r"^MinimumYield = 0\.5\b", re.M), "MinimumYield = 0.1")
SYSTEMCTL_MODULE = "gpuforge_systemctl"
_LIBRARY_FORMAT = "1"  # bump when the library's layout changes
SYSTEMCTL_LAUNCHER = f"""#!/usr/bin/python3 -S
# gpuforge node: the daemonless systemctl stand-in, run from {LIB_DIR.as_posix()} with its bytecode.
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


def hash_tools(digest: Any) -> None:
    """Feed every tool module's name and text into `digest` (a hashlib object): what the nodes'
    tool library and the stand-in packages' launchers are built from."""
    for tool in sorted(TOOLS_DIR.glob("*.py")):
        digest.update(tool.name.encode() + tool.read_bytes())


def _library_key(systemctl_text: str) -> str:
    digest = hashlib.sha256(f"{_LIBRARY_FORMAT} {sys.version} {SYSTEMCTL_YIELD[1]}".encode())
    hash_tools(digest)
    digest.update(systemctl_text.encode())
    return digest.hexdigest()[:16]


def stand_in_systemctl() -> Path:
    """Where the nodes' `systemctl` stand-in script is: $GPUFORGE_NODE_SYSTEMCTL, else the path
    set-up unpacks it to."""
    explicit = os.environ.get(STAND_IN_SYSTEMCTL_ENV)
    return Path(explicit) if explicit else STAND_IN_SYSTEMCTL


def python_script(path: Path) -> str | None:
    """The text of `path` when it is a readable Python script, else None."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text if text.startswith("#!") and "python" in text.splitlines()[0] else None


def _compile(module: Path) -> None:
    # Hash-checked bytecode stays valid in the copies nodes get (their files have new mtimes).
    with warnings.catch_warnings():  # the stand-in's invalid escapes are not ours to report
        warnings.simplefilter("ignore")
        py_compile.compile(
            str(module), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
        )


def build_tool_library(cache: Path, systemctl: Path | None = None) -> Path:
    """The folder every node's /usr/lib/gpuforge-sim is copied from, compiled once per fleet.

    Holds the stdlib-only tool modules and the `systemctl` stand-in script (default:
    `stand_in_systemctl()`) as a module; kept under `cache/<hash of those inputs>`, so a node-up
    compiles nothing. Raises FleetError when the stand-in is missing or not a Python script.
    """
    systemctl = systemctl or stand_in_systemctl()
    systemctl_text = python_script(systemctl)
    if systemctl_text is None:
        raise FleetError(
            f"the nodes' service manager {systemctl} is missing or not a Python script",
            fix="run `bash scripts/setup.sh` (it unpacks Debian's daemonless `systemctl` there "
            f"without installing it), or point ${STAND_IN_SYSTEMCTL_ENV} at that script",
        )
    library = cache / _library_key(systemctl_text)
    if library.is_dir():
        return library
    cache.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=cache))
    for src in sorted(TOOLS_DIR.glob("*.py")):
        _install(src.read_text(encoding="utf-8"), building / src.name, 0o644)
    pattern, replacement = SYSTEMCTL_YIELD
    module = building / f"{SYSTEMCTL_MODULE}.py"
    _install(pattern.sub(replacement, systemctl_text, count=1), module, 0o644)
    for module in sorted(building.glob("*.py")):
        _compile(module)
    building.chmod(0o755)
    try:
        building.rename(library)
    except OSError:  # another node-up built the same library first
        shutil.rmtree(building, ignore_errors=True)
    for old in cache.iterdir():
        if old != library and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return library


def install_tool_library(root: Path, library: Path) -> None:
    """Copy a built tool library to the node's /usr/lib/gpuforge-sim, where the launchers find it,
    and shadow the host's `systemctl` (systemd's, or none) with a launcher of the stand-in."""
    shutil.copytree(library, root / LIB_DIR, dirs_exist_ok=True)
    _install(SYSTEMCTL_LAUNCHER, root / "usr/bin/systemctl")


# The node's distribution sources: the stand-in repository's `distro/` flat repository (the
# host's sources would reach the host's mirrors, which nodes have no route to).
DISTRO_SOURCE = "deb [trusted=yes] file:/srv/gpuforge-apt/distro ./\n"


def _distribution_apt_sources(root: Path) -> None:
    apt = root / "etc/apt"
    (apt / "sources.list.d").mkdir(parents=True, exist_ok=True)
    (apt / "sources.list").write_text(DISTRO_SOURCE)
    host_lists = Path("/etc/apt/sources.list.d")
    names = {p.name for p in host_lists.iterdir()} if host_lists.is_dir() else set()
    names |= {p.name for p in (apt / "sources.list.d").iterdir()}
    for name in sorted(names):
        target = apt / "sources.list.d" / name
        if target.is_symlink() or target.exists():
            target.unlink()
        target.write_text("")


def seed_node(
    root: Path,
    profile: HardwareProfile,
    node_name: str,
    node_index: int,
    library: Path | None = None,
) -> None:
    """Write a node's hardware.json, power-on state.json, kernel log, tools; its APT sources are
    the stand-in distribution repository only.

    `root` is the node's overlay upper dir (or its root seen from the host): `root/x` is `/x`.
    `library` is a `build_tool_library` folder; without one, the tools are compiled for this node.
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
    (root / PROC_DIR / "driver").mkdir(parents=True, exist_ok=True)
    for name in ("modules", "boot_id"):
        (root / PROC_DIR / name).touch()
    if library is None:
        with tempfile.TemporaryDirectory() as cache:
            install_tool_library(root, build_tool_library(Path(cache)))
    else:
        install_tool_library(root, library)
    for dest, name in BASE_TOOLS.items():
        _install(tool_launcher(name), root / dest)
    _distribution_apt_sources(root)
