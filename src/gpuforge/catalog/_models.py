"""Typed catalog entries. Every entry carries the keys of the sources its facts come from."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gpuforge.catalog._versions import Version


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class PowerRange(_Entry):
    """Board power limits in watts: the default and the range `nvidia-smi -pl` accepts."""

    default: float
    min: float
    max: float


class NvLink(_Entry):
    """NVLink between the GPUs of one board: link count, the `topo -m` label, NVSwitch or not."""

    links: int
    label: str
    switched: bool


class MigProfile(_Entry):
    """One GPU-instance profile: id for `-cgi`, compute and memory slices, placements."""

    name: str
    id: int
    compute: int
    size: int
    max: int
    memory_gib: float
    starts: tuple[int, ...]


class MigFamily(_Entry):
    """The MIG geometry shared by GPUs with the same memory layout."""

    name: str
    compute_slices: int
    memory_slices: int
    profiles: dict[str, MigProfile]
    sources: tuple[str, ...]


class GpuModel(_Entry):
    """A GPU model: architecture, memory, power, NVLink, MIG family and CUDA/driver floors."""

    name: str
    aliases: tuple[str, ...] = ()
    vendor: Literal["nvidia", "amd"]
    architecture: str
    compute_capability: str
    memory_mib: int
    smi_name: str
    pci_device_id: str
    form_factor: str
    power: PowerRange
    nvlink: NvLink | None = None
    min_cuda: str | None = None
    max_cuda_major: int | None = None
    last_driver_branch: str | None = None
    open_modules: Literal["required", "supported", "unsupported"]
    cpu_arch: str = "x86_64"
    mig: MigFamily | None = None
    sources: tuple[str, ...]
    unverified: tuple[str, ...] = ()

    @property
    def cc_version(self) -> Version | None:
        """Compute capability as a comparable version (None for non-NVIDIA parts)."""
        try:
            return Version.parse(self.compute_capability)
        except ValueError:
            return None


class DriverBranch(_Entry):
    """A driver branch: support type and end of life."""

    name: str
    type: Literal["LTSB", "PB", "NFB"]
    eol: date | None
    sources: tuple[str, ...]
    unverified: tuple[str, ...] = ()


class DriverRelease(_Entry):
    """A driver version the solver may pin; `catalogued` is False when judged by its branch."""

    version: Version
    sources: tuple[str, ...]
    catalogued: bool = True

    @property
    def branch(self) -> str:
        """The branch ("535") this release belongs to."""
        return str(self.version.major)


class CudaRelease(_Entry):
    """A CUDA toolkit update (GA = X.Y.0) and the minimum driver its full feature set needs."""

    version: Version
    min_driver: Version
    catalogued: bool = True

    @property
    def minor(self) -> str:
        """The "12.2" form used in package names and by NCCL builds."""
        return ".".join(str(p) for p in self.version.parts[:2])


class CudaFamily(_Entry):
    """A CUDA major release: the minor-version-compatibility driver floor and ceiling."""

    major: int
    family_min_driver: Version
    family_max_branch_exclusive: str | None
    min_compute_capability: Version


class NcclRelease(_Entry):
    """An NCCL version and the CUDA minor releases it is built for."""

    version: Version
    cuda: tuple[str, ...]
    unverified: bool = False
    catalogued: bool = True


class CudnnRelease(_Entry):
    """One cuDNN build: the CUDA range it serves, its driver floor, and compute capabilities."""

    version: Version
    cuda_major: int
    cuda_min: Version
    cuda_max: Version
    min_driver: Version
    min_cc: Version
    max_cc: Version
    blackwell_min_cuda: Version | None = None
    unverified: bool = False
    catalogued: bool = True


class OsRelease(_Entry):
    """A supported OS: family, kernel, CUDA repository name and the first driver/CUDA for it."""

    name: str
    family: Literal["Debian", "RedHat"]
    codename: str
    kernel: str
    cuda_repo: str
    min_driver_branch: str
    min_cuda: str
    sources: tuple[str, ...]
    unverified: tuple[str, ...] = ()


class RegionPrice(_Entry):
    """Lowest hourly price of an instance type in one region (USD; None where unpriced)."""

    region: str
    on_demand: float | None
    spot: float | None


class InstanceType(_Entry):
    """A cloud instance type: GPUs, CPU, memory, interconnect, and the regions offering it."""

    cloud: Literal["aws", "azure", "gcp"]
    name: str
    gpu: str | None
    gpu_label: str
    gpus: int
    vcpus: float | None
    memory_gib: float | None
    network_gbps: float | None = None
    efa: int = 0
    infiniband: str | None = None
    nvme_gb: int = 0
    placement: bool = True
    regions: dict[str, RegionPrice]
    sources: tuple[str, ...]
