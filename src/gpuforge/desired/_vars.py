"""The roles' inputs: the variables every node (cluster-wide) and every pool's nodes get.

These are what `render` writes to group_vars and what the desired state evaluates the roles'
own declarations (units, files) with, so the two cannot disagree. Names follow the roles'
documented defaults (role-prefixed).
"""

from __future__ import annotations

from typing import Any

from gpuforge.catalog import load_catalog
from gpuforge.check import Lock, resolve_layout
from gpuforge.providers import provider_for
from gpuforge.spec import ClusterSpec, TargetRef

LOCAL_REPO_URL = "file:/srv/gpuforge-apt"


def _repo_mode(spec: ClusterSpec, target: TargetRef) -> tuple[str, str | None]:
    choice = spec.software.repository
    if choice == "auto":
        return (
            ("local", LOCAL_REPO_URL) if provider_for(target).local_repository else ("cuda", None)
        )
    if choice == "nvidia":
        return "cuda", None
    if choice == "local":
        return "local", spec.software.repository_url or LOCAL_REPO_URL
    return "mirror", spec.software.repository_url


def pool_mig(spec: ClusterSpec, lock: Lock, name: str) -> dict[str, int] | None:
    """The pool's MIG layout as profile -> instances per GPU; None when MIG is off."""
    settings = spec.pool_gpu_settings(spec.pools[name])
    if settings.mig is None:
        return None
    catalog = load_catalog()
    gpu = catalog.gpus[lock.pools[name].gpu]
    counts = resolve_layout(catalog, gpu, settings.mig.layout, settings.mig.devices)
    return counts if isinstance(counts, dict) else None


def split_nccl(locked: str) -> tuple[str, str]:
    """The lock's NCCL entry (`2.18.5+cuda12.2`) as (NCCL version, CUDA build)."""
    version, _, cuda = locked.partition("+cuda")
    return version, cuda


def _slurm_cluster_vars(spec: ClusterSpec) -> dict[str, Any]:
    """The slurm role's switch and cluster-wide inputs; nothing without a Slurm scheduler (the
    controller and the MUNGE key come with the inventory, as they name hosts and files)."""
    if spec.scheduler.kind != "slurm":
        return {}
    # hardening's firewall opens slurmctld's and slurmd's ports between the cluster's nodes.
    return {"gpuforge_enable_slurm": True, "slurm_cluster_name": spec.name, "hardening_slurm": True}


def cluster_vars(spec: ClusterSpec) -> dict[str, Any]:
    """Variables shared by every node: cluster, fabric, hardening, monitoring, validation."""
    fabric = spec.fabric
    return {
        "gpuforge_cluster": spec.name,
        "fabric_type": fabric.type,
        "fabric_roce_pfc_priority": fabric.roce.pfc_priority,
        "fabric_roce_ecn": fabric.roce.ecn,
        "fabric_roce_dscp": fabric.roce.dscp,
        "fabric_roce_cnp_priority": fabric.roce.cnp_priority,
        "nccl_fabric_type": fabric.type,
        "hardening_ssh_cidrs": spec.security.ssh_cidrs,
        "hardening_monitoring_cidrs": spec.monitoring.scrape_cidrs,
        "gpu_access_group": spec.security.gpu_group or "",
        "gpu_access_users": spec.security.gpu_users,
        "gpuforge_enable_gpu_access": spec.security.gpu_group is not None,
        "gpuforge_enable_monitoring": spec.monitoring.enabled and spec.monitoring.node_exporter,
        "dcgm_exporter": spec.monitoring.enabled and spec.monitoring.dcgm_exporter,
        "monitoring_gpu_allowed_processes": [
            *spec.security.gpu_allowed_processes,
            *spec.validation.allowed_processes,
        ],
        "monitoring_gpu_allowed_users": spec.security.gpu_allowed_users,
        "gpu_validation_dcgm_level": spec.validation.dcgm_level,
        "gpu_validation_nccl": spec.validation.nccl,
        **_slurm_cluster_vars(spec),
    }


# How a spot node of a Slurm cluster takes itself out of service when its notice arrives.
SLURM_SPOT_DRAIN = (
    "scontrol",
    "update",
    "nodename={hostname}",
    "state=drain",
    "reason=spot-interruption",
)


def spot_vars(spec: ClusterSpec, name: str) -> dict[str, Any]:
    """The spot watcher's inputs for a pool on a spot market of a target with spot semantics;
    none for other pools (the role stays off).

    On a Slurm cluster the watcher drains its node through `scontrol` (Slurm's node names are
    the nodes' names); elsewhere the drain command stays the role's default (record only).
    """
    pool = spec.pools[name]
    spot = provider_for(spec.pool_target(pool)).spot
    if pool.market == "on-demand" or spot is None:
        return {}
    handling = spec.cost.spot
    drain = {"spot_watcher_drain_command": list(SLURM_SPOT_DRAIN)}
    return {
        "gpuforge_enable_spot_watcher": True,
        "spot_watcher_cloud": spot.metadata,
        "spot_watcher_checkpoint_command": list(handling.checkpoint_command),
        "spot_watcher_checkpoint_timeout_s": handling.checkpoint_timeout_s,
        **(drain if spec.scheduler.kind == "slurm" else {}),
    }


def pool_vars(spec: ClusterSpec, lock: Lock, name: str) -> dict[str, Any]:
    """One pool's variables: repository, pinned stack from the lock, GPU settings."""
    pool = spec.pools[name]
    entry = lock.pools[name]
    stack = entry.stack
    settings = spec.pool_gpu_settings(pool)
    provider = provider_for(spec.pool_target(pool))
    mode, url = _repo_mode(spec, spec.pool_target(pool))
    catalog = load_catalog()
    nccl_version, nccl_cuda = split_nccl(stack.nccl)
    mig_config = pool_mig(spec, lock, name)
    clocks = settings.clocks
    return {
        "gpuforge_pool": name,
        "gpuforge_gpu_model": entry.gpu,
        "gpuforge_gpus_per_node": entry.gpus_per_node,
        "nvidia_repo_mode": mode,
        "nvidia_repo_url": url,
        "nvidia_repo_distro": catalog.os_releases[stack.os].cuda_repo,
        "nvidia_repo_arch": "sbsa" if catalog.gpus[entry.gpu].cpu_arch == "aarch64" else "x86_64",
        "nvidia_driver_branch": stack.driver_branch,
        "nvidia_driver_version": stack.driver,
        "nvidia_driver_open_modules": stack.driver_modules == "open",
        "nvidia_driver_fabricmanager": entry.fabricmanager,
        "cuda_toolkit_version": stack.cuda,
        "nccl_version": nccl_version,
        "nccl_cuda_version": nccl_cuda,
        "cudnn_version": stack.cudnn,
        "cudnn_cuda_major": stack.cuda.split(".")[0],
        "gpuforge_enable_cudnn": stack.cudnn is not None,
        "container_toolkit_version": stack.container_toolkit,
        "dcgm_version": stack.dcgm,
        "gpu_tuning_persistence_mode": settings.persistence_mode,
        "gpu_tuning_power_limit_w": settings.power_limit_w,
        "gpu_tuning_compute_mode": settings.compute_mode,
        "gpu_tuning_locked_clocks": (
            {"min": clocks.min_mhz, "max": clocks.max_mhz} if clocks else None
        ),
        "gpuforge_enable_mig": mig_config is not None,
        "gpuforge_enable_mps": settings.mps.enabled,
        "gpuforge_enable_hardening": spec.security.hardening,
        "hardening_ssh": provider_for(spec.pool_target(pool)).os_sshd,
        "mig_enabled": mig_config is not None,
        "mig_config": mig_config or {},
        "mig_groups": dict(settings.mig.groups) if settings.mig is not None else {},
        "mps_enabled": settings.mps.enabled,
        "mps_active_thread_percentage": settings.mps.active_thread_percentage,
        "mps_user": settings.mps.user or "root",
        "mps_group": settings.mps.group or "root",
        "gpu_validation_mig": mig_config is not None,
        **spot_vars(spec, name),
        **(
            {
                "slurm_gpus": entry.gpus_per_node,
                "slurm_mig": mig_config or {},
                "slurm_cgroups": provider.cgroups,
            }
            if spec.scheduler.kind == "slurm"
            else {}
        ),
    }
