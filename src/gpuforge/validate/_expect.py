"""`NodeExpectation`: what a node of a pool should look like, built from the spec and the lock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NodeExpectation:
    """The target state one node is judged against; None in an optional field means "not checked".

    `gpu_model_smi_names` lists every name nvidia-smi may print for the pool's GPU model;
    `mig_config` maps a MIG profile (`3g.40gb`) to its count on each GPU; `nvlink` is the link
    kind every GPU pair must show in `topo -m` (`NV18`); versions may be exact or a prefix
    (driver branch `535` accepts `535.183.01`); `allowed_processes` are the process names (or
    shell patterns) that may run on a GPU that should otherwise be idle; `gpu_processes` and
    `gpu_users` are the security allow-list (process names or patterns, users) of what may run
    on a GPU at all.
    """

    pool: str
    gpu_model_smi_names: tuple[str, ...]
    gpu_count: int
    driver_version: str | None = None
    cuda_version: str | None = None
    nccl_version: str | None = None
    cudnn_version: str | None = None
    persistence_mode: bool = True
    power_limit_w: float | None = None
    compute_mode: str = "DEFAULT"
    mig_config: dict[str, int] | None = None
    nvlink: str | None = None
    hca_count: int = 0
    hca_rate_gbps: float | None = None
    hca_link_layer: str | None = None
    dcgm_level: int = 1
    nccl_min_busbw_gbps: float | None = None
    allowed_processes: tuple[str, ...] = ()
    gpu_processes: tuple[str, ...] = ()
    gpu_users: tuple[str, ...] = ()


def version_matches(actual: str, expected: str) -> bool:
    """True when `actual` is `expected` or a release of it (`535.183.01-0ubuntu1` for `535`)."""
    return actual == expected or actual.startswith((expected + ".", expected + "-"))
