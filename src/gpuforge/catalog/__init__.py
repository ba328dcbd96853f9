"""Built-in knowledge: GPUs, MIG, driver/CUDA/cuDNN/NCCL/OS matrix, cloud instances, prices.

Every entry carries the keys of its sources (`Catalog.sources` maps them to documents).
"""

from gpuforge.catalog._load import Catalog, load_catalog
from gpuforge.catalog._models import (
    CudaFamily,
    CudaRelease,
    CudnnRelease,
    DriverBranch,
    DriverRelease,
    GpuModel,
    InstanceType,
    MigFamily,
    MigProfile,
    NcclRelease,
    NvLink,
    OsRelease,
    PowerRange,
    RegionPrice,
)
from gpuforge.catalog._versions import Clause, Requirement, Version, parse_requirement

__all__ = [
    "Catalog",
    "Clause",
    "CudaFamily",
    "CudaRelease",
    "CudnnRelease",
    "DriverBranch",
    "DriverRelease",
    "GpuModel",
    "InstanceType",
    "MigFamily",
    "MigProfile",
    "NcclRelease",
    "NvLink",
    "OsRelease",
    "PowerRange",
    "RegionPrice",
    "Requirement",
    "Version",
    "load_catalog",
    "parse_requirement",
]
