"""APT package names and version strings follow docs/PACKAGES.md exactly."""

from __future__ import annotations

from gpuforge.catalog import (
    CUDA_KEYRING,
    PackagePin,
    container_toolkit_packages,
    cuda_compat_package,
    cuda_drivers_package,
    cuda_toolkit_package,
    cudnn_packages,
    dcgm_package,
    driver_packages,
    fabricmanager_package,
    nccl_packages,
)


def _pins(pins: list[PackagePin]) -> list[str]:
    return [str(p) for p in pins]


def test_ubuntu_repositories_name_the_branch_at_0ubuntu1() -> None:
    for repo in ("ubuntu2204", "ubuntu2404"):
        assert _pins(driver_packages(repo, "535", "535.183.01", open_modules=False)) == [
            "nvidia-driver-535=535.183.01-0ubuntu1",
            "nvidia-utils-535=535.183.01-0ubuntu1",
            "nvidia-compute-utils-535=535.183.01-0ubuntu1",
            "nvidia-kernel-common-535=535.183.01-0ubuntu1",
        ]
        open_pins = _pins(driver_packages(repo, "580", "580.95.05", open_modules=True))
        assert open_pins[0] == "nvidia-driver-580-open=580.95.05-0ubuntu1"
        assert not any("-server" in pin for pin in open_pins)  # Canonical's archive only


def test_debian_repository_names_no_branch_at_1() -> None:
    assert _pins(driver_packages("debian12", "580", "580.95.05", open_modules=True)) == [
        "nvidia-driver=580.95.05-1",
        "nvidia-kernel-open-dkms=580.95.05-1",
        "nvidia-smi=580.95.05-1",
        "nvidia-persistenced=580.95.05-1",
    ]
    proprietary = _pins(driver_packages("debian12", "535", "535.183.01", open_modules=False))
    assert proprietary[1] == "nvidia-kernel-dkms=535.183.01-1"


def test_branch_metapackage_and_keyring() -> None:
    assert str(cuda_drivers_package("580", "580.95.05")) == "cuda-drivers-580=580.95.05-1"
    assert str(CUDA_KEYRING) == "cuda-keyring=1.1-1"


def test_cuda_packages() -> None:
    assert str(cuda_toolkit_package("12.2.2")) == "cuda-toolkit-12-2=12.2.2-1"
    assert str(cuda_compat_package("12.8.1", "535.183.01")) == "cuda-compat-12-8=535.183.01-1"


def test_library_packages() -> None:
    assert _pins(nccl_packages("2.18.5", "12.2")) == [
        "libnccl2=2.18.5-1+cuda12.2",
        "libnccl-dev=2.18.5-1+cuda12.2",
    ]
    assert _pins(cudnn_packages("9.17.0.29", 13)) == [
        "libcudnn9-cuda-13=9.17.0.29-1",
        "libcudnn9-dev-cuda-13=9.17.0.29-1",
    ]


def test_system_packages() -> None:
    assert str(fabricmanager_package("580", "580.95.05")) == "nvidia-fabricmanager-580=580.95.05-1"
    assert _pins(container_toolkit_packages("1.17.8")) == [
        "nvidia-container-toolkit=1.17.8-1",
        "nvidia-container-toolkit-base=1.17.8-1",
        "libnvidia-container-tools=1.17.8-1",
        "libnvidia-container1=1.17.8-1",
    ]
    assert str(dcgm_package("3.3.9")) == "datacenter-gpu-manager=1:3.3.9"


def test_pins_sort_by_name_then_version() -> None:
    pins = [PackagePin("b", "1"), PackagePin("a", "2"), PackagePin("a", "1")]

    assert sorted(pins) == [PackagePin("a", "1"), PackagePin("a", "2"), PackagePin("b", "1")]
