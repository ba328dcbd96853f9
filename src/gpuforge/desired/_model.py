"""The desired state of a node: every item a pool's nodes must hold, each named with its role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PackageItem:
    """An APT package at an exact version (None: any), held against `apt upgrade` when `hold`."""

    name: str
    version: str | None
    hold: bool
    role: str


@dataclass(frozen=True)
class UnitItem:
    """A systemd unit that must be enabled, and running when `active`."""

    name: str
    active: bool
    role: str


@dataclass(frozen=True)
class FileItem:
    """A managed file: the SHA-256 of the content its role writes, and its mode.

    `sha256` is None where the content is made from what only the node knows (its facts, its
    devices, a tool run there): then the file must exist with its mode, and where `generated`
    names the tool (`cdi`: `nvidia-ctk cdi generate`) hold what it makes there now.
    """

    path: str
    sha256: str | None
    mode: str
    role: str
    generated: str | None = None


@dataclass(frozen=True)
class ModuleItem:
    """A kernel module its role loads, which must be loaded."""

    name: str
    role: str


@dataclass(frozen=True)
class RuntimeItem:
    """A container engine its role makes default to the nvidia runtime, where it is installed.

    The engine counts when `daemon` is on the node; its `config` must then contain `marker`.
    """

    engine: str
    daemon: str
    config: str
    marker: str
    role: str


@dataclass(frozen=True)
class GpuItem:
    """Settings every GPU of the node must show; None leaves a setting unmanaged.

    Clocks are (min, max) graphics MHz when locked and (memory, graphics) MHz for application
    clocks.
    """

    persistence_mode: bool | None
    power_limit_w: int | None
    compute_mode: str | None
    locked_clocks: tuple[int, int] | None
    application_clocks: tuple[int, int] | None = None
    role: str = "gpu_tuning"


@dataclass(frozen=True)
class MigItem:
    """The MIG layout: profile -> instances on every GPU; None means MIG must be off."""

    config: dict[str, int] | None
    role: str = "mig"


@dataclass(frozen=True)
class PoolState:
    """Everything a node of one pool must hold, built once from the spec and the lock.

    `variables` are the roles' inputs (the pool's group_vars, cluster-wide ones included);
    `roles` the roles switched on for the pool, in the order site.yml runs them.
    """

    pool: str
    gpu_model: str
    gpus_per_node: int
    driver_version: str
    cuda_version: str
    nccl_version: str
    nccl_cuda_version: str
    cudnn_version: str | None
    roles: tuple[str, ...]
    variables: dict[str, Any]
    packages: tuple[PackageItem, ...] = ()
    units: tuple[UnitItem, ...] = ()
    files: tuple[FileItem, ...] = ()
    modules: tuple[ModuleItem, ...] = ()
    runtimes: tuple[RuntimeItem, ...] = ()
    gpu: GpuItem | None = None
    mig: MigItem | None = None

    def probe_args(self) -> dict[str, Any]:
        """The items as the collection's node_state module takes them (what to read, not judge)."""
        return {
            "packages": sorted({p.name for p in self.packages}),
            "units": sorted({u.name for u in self.units}),
            "files": sorted({f.path for f in self.files}),
            "cdi_specs": sorted({f.path for f in self.files if f.generated == "cdi"}),
            "modules": sorted({m.name for m in self.modules}),
            "runtimes": [
                {"engine": r.engine, "daemon": r.daemon, "config": r.config, "marker": r.marker}
                for r in self.runtimes
            ],
            "gpu": self.gpu is not None,
            "mig": self.mig is not None,
        }
