"""Desired state: spec + lock -> everything a node of each pool must hold, each item with its role.

Rendering (group_vars), drift and validation all read it, so no layer works out a pool's
expectations on its own.
"""

from gpuforge.desired._build import ROLES, desired_state, enabled_roles, pool_state
from gpuforge.desired._codes import DRIFT_CODES, DriftCode
from gpuforge.desired._model import FileItem, GpuItem, MigItem, PackageItem, PoolState, UnitItem
from gpuforge.desired._roles import (
    ANSIBLE_MANAGED,
    RoleScope,
    role_files,
    role_packages,
    role_units,
)
from gpuforge.desired._vars import LOCAL_REPO_URL, cluster_vars, pool_mig, pool_vars, split_nccl

__all__ = [
    "ANSIBLE_MANAGED",
    "DRIFT_CODES",
    "LOCAL_REPO_URL",
    "ROLES",
    "DriftCode",
    "FileItem",
    "GpuItem",
    "MigItem",
    "PackageItem",
    "PoolState",
    "RoleScope",
    "UnitItem",
    "cluster_vars",
    "desired_state",
    "enabled_roles",
    "pool_mig",
    "pool_state",
    "pool_vars",
    "role_files",
    "role_packages",
    "role_units",
    "split_nccl",
]
