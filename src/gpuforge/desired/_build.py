"""Spec + lock -> the desired state of each pool's nodes (`PoolState`), computed once."""

from __future__ import annotations

from typing import Any

from gpuforge.check import Lock
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
    role_files,
    role_modules,
    role_option,
    role_packages,
    role_runtimes,
    role_units,
)
from gpuforge.desired._site import site_role_defaults
from gpuforge.desired._vars import cluster_vars, pool_vars, split_nccl
from gpuforge.spec import ClusterSpec

# The collection's roles in the order site.yml runs them, each with its switch's default
# (site.yml's own list; a pool's group_vars turn `gpuforge_enable_<role>` on or off).
ROLE_DEFAULTS: tuple[tuple[str, bool], ...] = site_role_defaults()
ROLES: tuple[str, ...] = tuple(name for name, _ in ROLE_DEFAULTS)


def enabled_roles(variables: dict[str, Any]) -> tuple[str, ...]:
    """The roles `variables` switch on, in site.yml's order."""
    return tuple(
        name
        for name, default in ROLE_DEFAULTS
        if bool(variables.get(f"gpuforge_enable_{name}", default))
    )


def _packages(
    roles: tuple[str, ...], variables: dict[str, Any], locked: dict[str, str]
) -> list[PackageItem]:
    items = []
    for role in roles:
        entries, hold = role_packages(role, variables)
        for entry in entries:
            name = entry.partition("=")[0]
            items.append(PackageItem(name, locked.get(name), hold, role))
    return items


def _pair(value: Any, first: str, second: str) -> tuple[int, int] | None:
    if not isinstance(value, dict):
        return None
    return int(value[first]), int(value[second])


def _gpu(variables: dict[str, Any]) -> GpuItem:
    """The GPU settings gpu_tuning applies: its options as the role sees them (defaults too)."""

    def option(name: str) -> Any:
        return role_option("gpu_tuning", variables, f"gpu_tuning_{name}")

    return GpuItem(
        persistence_mode=option("persistence_mode"),
        power_limit_w=option("power_limit_w"),
        compute_mode=option("compute_mode"),
        locked_clocks=_pair(option("locked_clocks"), "min", "max"),
        application_clocks=_pair(option("application_clocks"), "memory", "graphics"),
    )


def pool_state(spec: ClusterSpec, lock: Lock, name: str) -> PoolState:
    """Everything a node of pool `name` must hold: packages, units, files, kernel modules,
    container runtimes, GPU settings, MIG."""
    entry = lock.pools[name]
    variables = {**cluster_vars(spec), **pool_vars(spec, lock, name)}
    roles = enabled_roles(variables)
    locked = {pin.name: pin.version for pin in entry.packages}
    nccl_version, nccl_cuda = split_nccl(entry.stack.nccl)
    mig = variables["mig_config"] if variables["mig_enabled"] else None
    return PoolState(
        pool=name,
        gpu_model=entry.gpu,
        gpus_per_node=entry.gpus_per_node,
        driver_version=entry.stack.driver,
        cuda_version=entry.stack.cuda,
        nccl_version=nccl_version,
        nccl_cuda_version=nccl_cuda,
        cudnn_version=entry.stack.cudnn,
        roles=roles,
        variables=variables,
        packages=tuple(_packages(roles, variables, locked)),
        units=tuple(
            UnitItem(unit, active, role)
            for role in roles
            for unit, active in role_units(role, variables)
        ),
        files=tuple(
            FileItem(path, digest, mode, role, generated)
            for role in roles
            for path, digest, mode, generated in role_files(role, variables)
        ),
        modules=tuple(
            ModuleItem(module, role) for role in roles for module in role_modules(role, variables)
        ),
        runtimes=tuple(
            RuntimeItem(**runtime, role=role)
            for role in roles
            for runtime in role_runtimes(role, variables)
        ),
        gpu=_gpu(variables) if "gpu_tuning" in roles else None,
        mig=MigItem(dict(mig)) if "mig" in roles and mig else None,
    )


def desired_state(spec: ClusterSpec, lock: Lock) -> dict[str, PoolState]:
    """Pool name -> its desired state, for every pool the lock pins."""
    return {name: pool_state(spec, lock, name) for name in spec.pools if name in lock.pools}
