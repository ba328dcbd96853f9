"""The simulated GPU hardware of fleet nodes: profiles, state, tools, stand-in packages, faults.

fleet-core calls `seed_node` when it creates a node, `ensure_apt_repo` and `build_tool_library`
once per fleet, and `inject_fault`/`heal` for `gpuforge fleet inject/heal`. The tools under
`tools/` run inside nodes (stdlib-only Python) and read the state that these functions write.
"""

from gpuforge.fleet.sim._apt import ensure_apt_repo, shared_apt_repo
from gpuforge.fleet.sim._faults import FAULTS, active_faults, heal, inject_fault
from gpuforge.fleet.sim._hardware import CpuLayout, GpuSpec, HardwareProfile, Hca, MigSpec
from gpuforge.fleet.sim._profiles import get_profile, profile_names
from gpuforge.fleet.sim._seed import build_tool_library, seed_node

__all__ = [
    "FAULTS",
    "CpuLayout",
    "GpuSpec",
    "HardwareProfile",
    "Hca",
    "MigSpec",
    "active_faults",
    "build_tool_library",
    "ensure_apt_repo",
    "get_profile",
    "heal",
    "inject_fault",
    "profile_names",
    "seed_node",
    "shared_apt_repo",
]
