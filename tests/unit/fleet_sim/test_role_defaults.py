"""The stand-in repository holds every version the collection's roles name as their defaults."""

from __future__ import annotations

from pathlib import Path

import yaml

from gpuforge.catalog import load_catalog
from gpuforge.fleet.sim._packages import packages_of

ROLES = Path(__file__).resolve().parents[3] / "src/gpuforge/ansible_collections/gpuforge/gpu/roles"


def _defaults(role: str) -> dict[str, object]:
    data = yaml.safe_load((ROLES / role / "defaults/main.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_role_default_versions_are_in_the_stand_in_repository() -> None:
    packages = {(p.name, p.version) for p in packages_of(load_catalog(), "debian12")}
    ubuntu = {p.name for p in packages_of(load_catalog(), "ubuntu2204")}
    cudnn = _defaults("cudnn")
    major, version = cudnn["cudnn_cuda_major"], cudnn["cudnn_version"]
    nccl = _defaults("nccl")
    cuda = str(_defaults("cuda_toolkit")["cuda_toolkit_version"])
    dashed = "-".join(cuda.split(".")[:2])
    wanted = {
        (f"libcudnn9-cuda-{major}", f"{version}-1"),
        (f"libcudnn9-dev-cuda-{major}", f"{version}-1"),
        ("libnccl2", f"{nccl['nccl_version']}-1+cuda{nccl['nccl_cuda_version']}"),
        (f"cuda-toolkit-{dashed}", f"{cuda}-1"),
    }
    assert wanted - packages == set()
    branch = _defaults("nvidia_driver")["nvidia_driver_branch"]
    assert f"nvidia-driver-{branch}" in ubuntu and f"cuda-drivers-{branch}" in ubuntu
    assert any(name == f"cuda-drivers-{branch}" for name, _ in packages)
