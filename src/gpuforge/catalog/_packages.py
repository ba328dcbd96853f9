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


# NVIDIA's CUDA repositories for the Debian family, by directory under
# developer.download.nvidia.com/compute/cuda/repos/<dir>/x86_64/ (docs/PACKAGES.md has the sources).
# The Ubuntu ones carry NVIDIA's rebuild of Canonical's driver packaging: names with the branch,
# versions `<driver>-0ubuntu1`. The Debian one carries Debian-style packaging: names without the
# branch, versions `<driver>-1`. RPM repositories (rhel8, rhel9, amzn2023) are not built here.
UBUNTU_REPOS = ("ubuntu2204", "ubuntu2404")
DEBIAN_REPOS = ("debian12",)
APT_REPOS = UBUNTU_REPOS + DEBIAN_REPOS
# The package that installs the repository's signing key and its APT source (all architectures).
CUDA_KEYRING = PackagePin("cuda-keyring", "1.1-1")


def driver_packages(repo: str, branch: str, version: str, open_modules: bool) -> list[PackagePin]:
    """The driver as NVIDIA's CUDA repository `repo` (ubuntu2204, debian12, ...) names it: the
    metapackage of one kernel-module flavour, nvidia-smi's and the persistence daemon's packages."""
    if repo in DEBIAN_REPOS:
        deb = f"{version}-1"
        module = "nvidia-kernel-open-dkms" if open_modules else "nvidia-kernel-dkms"
        names = ["nvidia-driver", module, "nvidia-smi", "nvidia-persistenced"]
        return [PackagePin(name, deb) for name in names]
    if repo in UBUNTU_REPOS:
        deb = f"{version}-0ubuntu1"
        flavour = "-open" if open_modules else ""
        names = [
            f"nvidia-driver-{branch}{flavour}",
            f"nvidia-utils-{branch}",
            f"nvidia-compute-utils-{branch}",
            f"nvidia-kernel-common-{branch}",
        ]
        return [PackagePin(name, deb) for name in names]
    # RPM repositories: the branch metapackage only (UNVERIFIED; no role installs from them).
    return [PackagePin(f"cuda-drivers-{branch}", f"{version}-1")]


def cuda_drivers_package(branch: str, version: str) -> PackagePin:
    """`cuda-drivers-<branch>`, the branch metapackage every CUDA repository carries."""
    return PackagePin(f"cuda-drivers-{branch}", f"{version}-1")


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
