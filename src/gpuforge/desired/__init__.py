"""Desired state: spec + lock -> everything a node of each pool must hold, each item with its role.

Rendering (group_vars), drift and validation all read it, so no layer works out a pool's
expectations on its own.
"""

from gpuforge.desired._build import ROLE_DEFAULTS, ROLES, desired_state, enabled_roles, pool_state
from gpuforge.desired._codes import DRIFT_CODES, DriftCode
from gpuforge.desired._model import (
    FileItem,
    GpuItem,
    MigItem,
    ModuleItem,
    PackageItem,
    PoolState,
    RuntimeItem,
    UnitItem,
)
from gpuforge.desired._roles import (
    ANSIBLE_MANAGED,
    NODE_CONTENT,
    RoleScope,
    role_files,
    role_modules,
    role_option,
    role_packages,
    role_runtimes,
    role_units,
)
from gpuforge.desired._site import SITE_PLAYBOOK, site_role_defaults
from gpuforge.desired._vars import LOCAL_REPO_URL, cluster_vars, pool_mig, pool_vars, split_nccl

__all__ = [
    "ANSIBLE_MANAGED",
    "DRIFT_CODES",
    "LOCAL_REPO_URL",
    "NODE_CONTENT",
    "ROLES",
    "ROLE_DEFAULTS",
    "SITE_PLAYBOOK",
    "DriftCode",
    "FileItem",
    "GpuItem",
    "MigItem",
    "ModuleItem",
    "PackageItem",
    "PoolState",
    "RoleScope",
    "RuntimeItem",
    "UnitItem",
    "cluster_vars",
    "desired_state",
    "enabled_roles",
    "pool_mig",
    "pool_state",
    "pool_vars",
    "role_files",
    "role_modules",
    "role_option",
    "role_packages",
    "role_runtimes",
    "role_units",
    "site_role_defaults",
    "split_nccl",
]
