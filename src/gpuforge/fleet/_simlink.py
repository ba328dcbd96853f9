"""The seam to the simulated hardware (`gpuforge.fleet.sim`), imported only when needed."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from gpuforge.errors import FleetError

PROCESS_FAULTS = ("sshd-killed", "powered-off", "gpu-process")


def sim_module() -> ModuleType | None:
    """The simulated-hardware package, or None when it is not installed alongside."""
    try:
        module = importlib.import_module("gpuforge.fleet.sim")
    except ImportError:
        return None
    return module if hasattr(module, "seed_node") else None


def _require() -> ModuleType:
    module = sim_module()
    if module is None:
        raise FleetError(
            "the simulated hardware (gpuforge.fleet.sim) is not available",
            fix="reinstall gpuforge with its fleet simulator (pip install -e .)",
        )
    return module


def check_profile(name: str) -> None:
    """Raise InputError (from the simulator) when `name` is not a known hardware profile."""
    _require().get_profile(name)


def seed(upper: Path, profile: str, node_name: str, node_index: int, library_cache: Path) -> None:
    """Write a new node's simulated hardware, state files and tools into its upper layer; the
    tools are compiled once under `library_cache` for every node of the fleet."""
    sim = _require()
    library = sim.build_tool_library(library_cache)
    sim.seed_node(upper, sim.get_profile(profile), node_name, node_index, library)


def apt_repo(cache: Path) -> Path:
    """The stand-in APT repository shared read-only by every node: built once into the host's
    fleet cache, for every fleet state folder."""
    cache.mkdir(parents=True, exist_ok=True)
    path: Path = _require().shared_apt_repo(cache)
    if not path.is_dir():
        raise FleetError(
            f"the stand-in APT repository was not built at {path}",
            fix="remove the folder and try again; report a bug if it persists",
        )
    return path


def inject_hardware(root: Path, fault: str, params: dict[str, Any]) -> None:
    """Apply a hardware fault to the node whose visible root is `root`."""
    _require().inject_fault(root, fault, **params)


def heal_hardware(root: Path) -> None:
    """Clear every hardware fault of the node whose visible root is `root`."""
    module = sim_module()
    if module is not None:
        module.heal(root)


def fault_names() -> list[str]:
    """Every fault `fleet inject` accepts: process faults plus the simulator's hardware faults."""
    module = sim_module()
    hardware = sorted(module.FAULTS) if module is not None else []
    return [*PROCESS_FAULTS, *hardware]
