"""APT package names and version strings of the NVIDIA stack (docs/PACKAGES.md).

One place for the naming, used by the lock (what to install), the renderer (role variables)
and the simulated fleet's stand-in repository (what to offer), so the three always agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class PackagePin:
    """One package at one version, as `apt-get install name=version` takes it."""

    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}={self.version}"


def driver_packages(branch: str, version: str, open_modules: bool) -> list[PackagePin]:
    """The driver metapackage (open or proprietary kernel modules) and nvidia-smi's package."""
    flavour = "-open" if open_modules else ""
    deb = f"{version}-0ubuntu1"
    return [
        PackagePin(f"nvidia-driver-{branch}-server{flavour}", deb),
        PackagePin(f"nvidia-utils-{branch}-server", deb),
        PackagePin(f"nvidia-kernel-common-{branch}-server", deb),
    ]


def fabricmanager_package(branch: str, version: str) -> PackagePin:
    """Fabric manager for NVSwitch systems; its version must equal the driver's."""
    return PackagePin(f"nvidia-fabricmanager-{branch}", f"{version}-1")


def cuda_toolkit_package(cuda: str) -> PackagePin:
    """The toolkit of one CUDA minor release, e.g. cuda-toolkit-12-2 at 12.2.2-1."""
    major, minor = cuda.split(".")[:2]
    return PackagePin(f"cuda-toolkit-{major}-{minor}", f"{cuda}-1")


def cuda_compat_package(cuda: str, driver: str) -> PackagePin:
    """Forward-compatibility libraries that let an older driver run a newer CUDA."""
    major, minor = cuda.split(".")[:2]
    return PackagePin(f"cuda-compat-{major}-{minor}", f"{driver}-1")


def nccl_packages(nccl: str, cuda_build: str) -> list[PackagePin]:
    """libnccl2 and libnccl-dev of one NCCL version built for one CUDA minor release."""
    version = f"{nccl}-1+cuda{cuda_build}"
    return [PackagePin("libnccl2", version), PackagePin("libnccl-dev", version)]


def cudnn_packages(cudnn: str, cuda_major: int) -> list[PackagePin]:
    """cuDNN 9 runtime and headers for one CUDA major release."""
    version = f"{cudnn}-1"
    return [
        PackagePin(f"libcudnn9-cuda-{cuda_major}", version),
        PackagePin(f"libcudnn9-dev-cuda-{cuda_major}", version),
    ]


def container_toolkit_packages(version: str) -> list[PackagePin]:
    """The NVIDIA Container Toolkit and the libraries it depends on, all at one version."""
    deb = f"{version}-1"
    return [
        PackagePin("nvidia-container-toolkit", deb),
        PackagePin("nvidia-container-toolkit-base", deb),
        PackagePin("libnvidia-container-tools", deb),
        PackagePin("libnvidia-container1", deb),
    ]


def dcgm_package(version: str) -> PackagePin:
    """DCGM (dcgmi, nv-hostengine); Debian epoch 1 as NVIDIA publishes it."""
    return PackagePin("datacenter-gpu-manager", f"1:{version}")
