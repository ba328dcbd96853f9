"""The desired state of the example clusters: one source for rendering, drift and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpuforge.check import read_lock
from gpuforge.desired import PoolState, desired_state
from gpuforge.ops import pool_expectation
from gpuforge.render import load_group_vars, render_group_vars
from gpuforge.spec import ClusterSpec, load_spec

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="module")
def cluster() -> tuple[ClusterSpec, dict[str, PoolState]]:
    """The example local cluster (an H100 pool, an A100 pool with MIG) and its desired state."""
    spec = load_spec(EXAMPLES / "local.yaml").spec
    return spec, desired_state(spec, read_lock(EXAMPLES / "local.lock"))


def test_packages_are_the_lock_pins_with_their_roles_and_holds(
    cluster: tuple[ClusterSpec, dict[str, PoolState]],
) -> None:
    """Every pinned package of the lock is an item at its exact version, owned by its role;
    the roles that hold their packages (driver, NCCL) say so."""
    lock = read_lock(EXAMPLES / "local.lock")
    for name, state in cluster[1].items():
        items = {p.name: p for p in state.packages}
        for pin in lock.pools[name].packages:
            assert items[pin.name].version == pin.version
        assert items["libnccl2"].role == "nccl" and items["libnccl2"].hold
        assert items["nvidia-utils-580-server"].role == "nvidia_driver"
        assert items["nvidia-utils-580-server"].hold
        assert not items["libcudnn9-cuda-12"].hold


def test_units_files_and_gpu_settings(cluster: tuple[ClusterSpec, dict[str, PoolState]]) -> None:
    """Services with their enabled/active state, managed files, GPU settings and MIG per pool."""
    h100, a100 = cluster[1]["h100"], cluster[1]["a100"]
    units = {u.name: (u.active, u.role) for u in h100.units}
    assert units["nvidia-dcgm.service"] == (True, "dcgm")
    assert units["gpuforge-gpu-tuning.service"] == (False, "gpu_tuning")
    files = {f.path: f.role for f in h100.files}
    assert files["/etc/nccl.conf"] == "nccl"
    assert files["/etc/modules-load.d/gpuforge-fabric.conf"] == "fabric"
    assert h100.gpu is not None and h100.gpu.power_limit_w == 600
    assert h100.gpu.compute_mode == "EXCLUSIVE_PROCESS"
    assert h100.mig is None
    assert a100.mig is not None and a100.mig.config == {"3g.40gb": 2}
    assert "mig" in a100.roles and "mig" not in h100.roles


def test_render_and_validation_read_the_same_state(
    cluster: tuple[ClusterSpec, dict[str, PoolState]],
) -> None:
    """group_vars and validation's expectations carry the desired state's MIG layout and NCCL."""
    spec, states = cluster
    lock = read_lock(EXAMPLES / "local.lock")
    rendered = render_group_vars(spec, lock)
    for name, state in states.items():
        group_vars = load_group_vars(rendered[f"pool_{name}.yml"])
        expectation = pool_expectation(spec, lock, name, state)
        mig = state.mig.config if state.mig else None
        assert (group_vars["mig_config"] or None) == mig == expectation.mig_config
        assert group_vars["nccl_version"] == state.nccl_version == expectation.nccl_version
