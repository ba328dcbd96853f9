"""The lock: one pinned stack per pool, packages per docs/PACKAGES.md, a digest of the inputs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from gpuforge.check import LockConflicts, inputs_digest, lock_path, make_context, solve_lock
from gpuforge.spec import SpecDocument, load_spec, load_spec_text

SPECS = Path(__file__).parents[2] / "fixtures" / "specs"
AS_OF = date(2026, 11, 28)
HEAD = "apiVersion: gpuforge/v1\nkind: Cluster\nname: lk\ntarget: local\n"


def _doc(pools: str, extra: str = "") -> SpecDocument:
    return load_spec_text(HEAD + "pools:\n" + pools + extra, "lk.yaml")


def test_lock_path_sits_next_to_the_spec() -> None:
    assert lock_path("/x/y/cluster.yaml") == Path("/x/y/cluster.lock")
    assert lock_path("examples/local.yaml") == Path("examples/local.lock")


def test_lock_of_the_clean_spec_matches_its_committed_lock() -> None:
    path = SPECS / "clean.yaml"
    lock = solve_lock(make_context(load_spec(path), AS_OF))

    assert lock.dump() == lock_path(path).read_text(encoding="utf-8")


def test_lock_content_and_packages() -> None:
    lock = solve_lock(
        make_context(
            _doc("  h:\n    gpu: H100:8\n  t:\n    gpu: T4:4\n", 'software: {driver: "535"}\n'),
            AS_OF,
        )
    )
    data = lock.to_data()
    h100, t4 = data["pools"]["h"], data["pools"]["t"]

    assert (data["apiVersion"], data["kind"], data["cluster"]) == ("gpuforge/v1", "Lock", "lk")
    assert data["inputs_digest"].startswith("sha256:")
    # R535 newest 535.183.01 fully supports 12.2 U2 (needs 535.104.05); default modules before R560
    assert (h100["driver"], h100["cuda"], h100["driver_modules"]) == (
        "535.183.01",
        "12.2.2",
        "proprietary",
    )
    # an HGX board with NVSwitch (8 x H100) needs fabric manager at the driver's exact version
    assert (h100["fabricmanager"], t4["fabricmanager"]) == (True, False)
    # the spec's default OS, Ubuntu 22.04: NVIDIA's ubuntu2204 repository names the branch
    assert h100["packages"] == [
        "nvidia-driver-535=535.183.01-0ubuntu1",
        "nvidia-utils-535=535.183.01-0ubuntu1",
        "nvidia-compute-utils-535=535.183.01-0ubuntu1",
        "nvidia-kernel-common-535=535.183.01-0ubuntu1",
        "nvidia-fabricmanager-535=535.183.01-1",
        "cuda-toolkit-12-2=12.2.2-1",
        "libnccl2=2.26.2-1+cuda12.2",
        "libnccl-dev=2.26.2-1+cuda12.2",
        "libcudnn9-cuda-12=9.17.0.29-1",
        "libcudnn9-dev-cuda-12=9.17.0.29-1",
        "nvidia-container-toolkit=1.17.8-1",
        "nvidia-container-toolkit-base=1.17.8-1",
        "libnvidia-container-tools=1.17.8-1",
        "libnvidia-container1=1.17.8-1",
        "datacenter-gpu-manager=1:3.3.9",
    ]
    assert not any(p.startswith("nvidia-fabricmanager") for p in t4["packages"])
    for entry in (h100, t4):
        assert set(entry["reasons"]) == {
            "container_toolkit",
            "cuda",
            "cudnn",
            "dcgm",
            "driver",
            "driver_modules",
            "nccl",
        }
        assert all(entry["reasons"].values())


def test_dump_is_deterministic_yaml_with_a_header() -> None:
    doc = _doc("  h:\n    gpu: H100:8\n  a:\n    gpu: A100:8\n")
    first = solve_lock(make_context(doc, AS_OF)).dump()
    second = solve_lock(make_context(_doc("  h:\n    gpu: H100:8\n  a:\n    gpu: A100:8\n"), AS_OF))

    assert first == second.dump()
    assert first.startswith("# cluster.lock: written by `gpuforge lock`.")
    data = YAML(typ="safe", pure=True).load(first)
    assert list(data["pools"]) == ["a", "h"]  # keys sorted, whatever the spec order


def test_digest_follows_only_the_inputs_that_change_the_stack() -> None:
    base = _doc("  h:\n    gpu: H100:8\n")
    same = [
        _doc("  h:\n    gpu: H100:8\n", "security: {ssh_cidrs: [10.0.0.0/8]}\n"),
        _doc("  h:\n    gpu: H100:8\n    count: 3\n"),
        _doc("  h:\n    gpu: H100x8\n", "gpu: {power_limit_w: 500}\n"),
    ]
    changed = [
        _doc("  h:\n    gpu: H100:4\n"),
        _doc("  h:\n    gpu: A100:8\n"),
        _doc("  h:\n    gpu: H100:8\n", 'software: {cuda: "12.9"}\n'),
        _doc("  h:\n    gpu: H100:8\n    software: {driver: '580'}\n"),
        _doc("  g:\n    gpu: H100:8\n"),
    ]

    digest = inputs_digest(base.spec)
    assert all(inputs_digest(doc.spec) == digest for doc in same)
    assert all(inputs_digest(doc.spec) != digest for doc in changed)


def test_no_stack_raises_conflicts_per_pool() -> None:
    doc = _doc(
        "  old:\n    gpu: V100:8\n    software: {cuda: '13.0'}\n  ok:\n    gpu: H100:8\n"
        "  amd:\n    gpu: MI300X:8\n"
    )

    with pytest.raises(LockConflicts) as caught:
        solve_lock(make_context(doc, AS_OF))

    conflicts = {pool: [c.code for c in found] for pool, found in caught.value.conflicts.items()}
    assert conflicts == {"old": ["GF-STACK-002"], "amd": ["GF-STACK-012"]}
    assert str(caught.value) == "no compatible stack for: old, amd"


def test_pool_with_unknown_instance_type_cannot_be_locked() -> None:
    doc = load_spec_text(
        HEAD.replace("target: local", "target: aws/us-east-1")
        + "pools:\n  x:\n    instance_type: p9.huge\n",
        "lk.yaml",
    )

    with pytest.raises(LockConflicts) as caught:
        solve_lock(make_context(doc, AS_OF))

    assert [c.code for c in caught.value.conflicts["x"]] == ["GF-CLOUD-001"]


def _driver_pins(os_name: str) -> list[str]:
    software = f'software: {{os: {os_name}, driver: "580", driver_modules: open}}\n'
    lock = solve_lock(make_context(_doc("  h:\n    gpu: H100:8\n", software), AS_OF))
    return [p for p in lock.to_data()["pools"]["h"]["packages"] if "nvidia" in p]


def test_a_debian_12_pool_pins_the_names_of_nvidias_debian12_repository() -> None:
    """Debian-style names without the branch, Debian revision -1 (no Ubuntu archive names)."""
    assert _driver_pins("debian-12") == [
        "nvidia-driver=580.95.05-1",
        "nvidia-kernel-open-dkms=580.95.05-1",
        "nvidia-smi=580.95.05-1",
        "nvidia-persistenced=580.95.05-1",
        "nvidia-fabricmanager-580=580.95.05-1",
        "nvidia-container-toolkit=1.17.8-1",
        "nvidia-container-toolkit-base=1.17.8-1",
        "libnvidia-container-tools=1.17.8-1",
        "libnvidia-container1=1.17.8-1",
    ]


def test_an_ubuntu_22_04_pool_pins_the_names_of_nvidias_ubuntu2204_repository() -> None:
    """The branch in every name, NVIDIA's -0ubuntu1 revision, not Canonical's -server packages."""
    assert _driver_pins("ubuntu-22.04")[:5] == [
        "nvidia-driver-580-open=580.95.05-0ubuntu1",
        "nvidia-utils-580=580.95.05-0ubuntu1",
        "nvidia-compute-utils-580=580.95.05-0ubuntu1",
        "nvidia-kernel-common-580=580.95.05-0ubuntu1",
        "nvidia-fabricmanager-580=580.95.05-1",
    ]
