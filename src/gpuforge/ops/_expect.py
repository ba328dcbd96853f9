"""What validation should find on each node, from the spec, the lock and the hardware declared."""

from __future__ import annotations

from gpuforge.catalog import load_catalog
from gpuforge.check import Lock
from gpuforge.desired import PoolState, pool_state
from gpuforge.fleet.sim import get_profile
from gpuforge.providers import provider_for
from gpuforge.render import local_profile
from gpuforge.spec import ClusterSpec
from gpuforge.validate import NodeExpectation

_LINK_LAYER = {"infiniband": "InfiniBand", "roce": "Ethernet"}


def pool_expectation(
    spec: ClusterSpec, lock: Lock, pool_name: str, state: PoolState | None = None
) -> NodeExpectation:
    """The expectation every node of a pool is judged against, from the pool's desired state."""
    catalog = load_catalog()
    state = state or pool_state(spec, lock, pool_name)
    pool = spec.pools[pool_name]
    entry = lock.pools[pool_name]
    gpu = catalog.gpus[entry.gpu]
    target = spec.pool_target(pool)
    variables = state.variables
    mig = dict(state.mig.config) if state.mig and state.mig.config else None
    hca_count, rate, layer = 0, spec.fabric.port_speed_gbps, _LINK_LAYER.get(spec.fabric.type)
    if provider_for(target).simulated:
        profile = get_profile(
            local_profile(pool, entry.gpu, entry.gpus_per_node, spec.fabric.type == "efa")
        )
        rdma = [h for h in profile.hcas if h.kind == "mlx5"]
        if spec.fabric.type in ("infiniband", "roce") and rdma:
            hca_count = len(rdma)
            rate = rate or float(rdma[0].rate)
    nvlink = (
        gpu.nvlink.label
        if gpu.nvlink and gpu.nvlink.switched and entry.gpus_per_node > 1 and mig is None
        else None
    )
    return NodeExpectation(
        pool=pool_name,
        gpu_model_smi_names=(gpu.smi_name,),
        gpu_count=entry.gpus_per_node,
        driver_version=state.driver_version,
        cuda_version=state.cuda_version,
        nccl_version=state.nccl_version,
        cudnn_version=state.cudnn_version,
        persistence_mode=bool(variables["gpu_tuning_persistence_mode"]),
        power_limit_w=(
            float(variables["gpu_tuning_power_limit_w"])
            if variables["gpu_tuning_power_limit_w"]
            else None
        ),
        compute_mode=str(variables["gpu_tuning_compute_mode"]),
        mig_config=mig,
        nvlink=nvlink,
        hca_count=hca_count,
        hca_rate_gbps=rate if hca_count else None,
        hca_link_layer=layer if hca_count else None,
        dcgm_level=spec.validation.dcgm_level,
        nccl_min_busbw_gbps=spec.validation.nccl_min_busbw_gbps if mig is None else None,
        allowed_processes=tuple(spec.validation.allowed_processes),
        gpu_processes=tuple(spec.security.gpu_allowed_processes),
        gpu_users=tuple(spec.security.gpu_allowed_users),
    )
