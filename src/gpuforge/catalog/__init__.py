"""Built-in knowledge: GPUs, MIG, driver/CUDA/cuDNN/NCCL/OS matrix, cloud instances, prices.

Every entry carries the keys of its sources (`Catalog.sources` maps them to documents).
"""

from gpuforge.catalog._judge import judge_cuda, judge_cudnn, judge_driver, judge_nccl
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
from gpuforge.catalog._packages import (
    PackagePin,
    container_toolkit_packages,
    cuda_compat_package,
    cuda_toolkit_package,
    cudnn_packages,
    dcgm_package,
    driver_packages,
    fabricmanager_package,
    nccl_packages,
)
from gpuforge.catalog._prices import (
    ATTRIBUTION,
    PriceSnapshot,
    load_price_file,
    parse_price_csv,
    shipped_snapshot,
)
from gpuforge.catalog._versions import Clause, Requirement, Version, parse_requirement

__all__ = [
    "ATTRIBUTION",
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
    "PackagePin",
    "PowerRange",
    "PriceSnapshot",
    "RegionPrice",
    "Requirement",
    "Version",
    "container_toolkit_packages",
    "cuda_compat_package",
    "cuda_toolkit_package",
    "cudnn_packages",
    "dcgm_package",
    "driver_packages",
    "fabricmanager_package",
    "judge_cuda",
    "judge_cudnn",
    "judge_driver",
    "judge_nccl",
    "load_catalog",
    "load_price_file",
    "nccl_packages",
    "parse_price_csv",
    "parse_requirement",
    "shipped_snapshot",
]
