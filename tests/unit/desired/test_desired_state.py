"""The desired state of the example clusters: one source for rendering, drift and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpuforge.check import read_lock
from gpuforge.desired import (
    PoolState,
    UnitItem,
    desired_state,
    role_files,
    role_modules,
    role_runtimes,
    role_units,
)
from gpuforge.ops import pool_expectation
from gpuforge.render import load_group_vars, render_group_vars
from gpuforge.spec import ClusterSpec, load_spec, load_spec_text

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
        assert items["nvidia-smi"].role == "nvidia_driver"  # a Debian 12 pool
        assert items["nvidia-smi"].hold
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


def _variant(old: str, new: str) -> dict[str, PoolState]:
    """The example cluster's desired state with `old` replaced by `new` in its spec."""
    text = (EXAMPLES / "local.yaml").read_text(encoding="utf-8")
    assert old in text
    spec = load_spec_text(text.replace(old, new), "local.yaml").spec
    return desired_state(spec, read_lock(EXAMPLES / "local.lock"))


def test_mig_boot_files_and_unit(cluster: tuple[ClusterSpec, dict[str, PoolState]]) -> None:
    """The MIG role's config, boot script and unit are managed files; the unit is enabled.
    The script replays the profile ids the node's own MIG run created: made on the node."""
    a100 = cluster[1]["a100"]
    files = {f.path: f for f in a100.files if f.role == "mig"}
    assert set(files) == {
        "/etc/gpuforge/mig-config.yaml",
        "/usr/local/sbin/gpuforge-mig",
        "/etc/systemd/system/gpuforge-mig.service",
    }
    assert files["/etc/gpuforge/mig-config.yaml"].sha256 is not None
    assert files["/usr/local/sbin/gpuforge-mig"].sha256 is None
    assert files["/usr/local/sbin/gpuforge-mig"].mode == "0755"
    assert UnitItem("gpuforge-mig.service", False, "mig") in a100.units


def test_mig_access_script_is_a_managed_file_with_mig_groups() -> None:
    """With gpu.mig.groups, the script that gives the instances to their groups is a managed
    file with a known digest (drift sees it changed)."""
    groups = 'mig: {devices: {"3g.40gb": 2}, groups: {"3g.40gb": inference}}'
    a100 = _variant('mig: {"3g.40gb": 2}', groups)["a100"]
    files = {f.path: f for f in a100.files if f.role == "mig"}
    script = files["/usr/local/sbin/gpuforge-mig-access"]
    assert script.sha256 is not None and script.mode == "0755"


def test_mps_unit() -> None:
    """With MPS on, its unit file is managed and its daemon must be enabled and running."""
    h100 = _variant("persistence_mode: true,", "persistence_mode: true, mps: true,")["h100"]
    assert "/etc/systemd/system/nvidia-mps.service" in {f.path for f in h100.files}
    assert UnitItem("nvidia-mps.service", True, "mps") in h100.units


def test_cdi_spec_and_container_runtimes(
    cluster: tuple[ClusterSpec, dict[str, PoolState]],
) -> None:
    """The CDI spec nvidia-ctk generates on the node must exist; each engine the role would
    configure is an item, judged where its daemon is installed."""
    h100 = cluster[1]["h100"]
    (cdi,) = (f for f in h100.files if f.role == "container_toolkit")
    assert (cdi.path, cdi.sha256, cdi.mode, cdi.generated) == (
        "/etc/cdi/nvidia.yaml",
        None,
        "0644",
        "cdi",
    )
    assert h100.probe_args()["cdi_specs"] == ["/etc/cdi/nvidia.yaml"]
    assert {(r.engine, r.daemon, r.role) for r in h100.runtimes} == {
        ("containerd", "containerd", "container_toolkit"),
        ("docker", "dockerd", "container_toolkit"),
    }
    assert role_runtimes("container_toolkit", {"container_toolkit_set_default": False}) == []


def test_kernel_modules(cluster: tuple[ClusterSpec, dict[str, PoolState]]) -> None:
    """The driver's modules and the fabric's, as the roles load them; none of the fabric's on
    Ethernet; nvidia_peermem where switched on."""
    h100 = cluster[1]["h100"]
    modules = {(m.name, m.role) for m in h100.modules}
    assert modules == {
        ("nvidia", "nvidia_driver"),
        ("nvidia_uvm", "nvidia_driver"),
        ("ib_umad", "fabric"),
        ("ib_ipoib", "fabric"),
        ("rdma_ucm", "fabric"),
    }
    ethernet = _variant("type: infiniband", "type: ethernet")["h100"]
    assert {m.role for m in ethernet.modules} == {"nvidia_driver"}
    peermem = {**h100.variables, "nvidia_driver_peermem": True}
    assert "nvidia_peermem" in role_modules("nvidia_driver", peermem)


def test_hardening_files_and_unit(cluster: tuple[ClusterSpec, dict[str, PoolState]]) -> None:
    """Every file the hardening role writes; the audit rules (the node's device files) and the
    firewall (the controller's and the cluster nodes' addresses) are made on the node unless the
    inputs name them."""
    inputs = dict(cluster[1]["h100"].variables)
    # The local fleet's sshd is its own: the role leaves SSH alone there (hardening_ssh false).
    local = {path for path, _, _, _ in role_files("hardening", inputs)}
    assert "/etc/ssh/sshd_config.d/50-gpuforge.conf" not in local
    inputs["hardening_ssh"] = True
    files = {path: digest for path, digest, _, _ in role_files("hardening", inputs)}
    assert set(files) == {
        "/etc/ssh/sshd_config.d/50-gpuforge.conf",
        "/etc/apt/apt.conf.d/51gpuforge-unattended-upgrades",
        "/etc/audit/rules.d/50-gpuforge-nvidia.rules",
        "/etc/nftables.conf",
    }
    assert files["/etc/ssh/sshd_config.d/50-gpuforge.conf"] is not None
    assert files["/etc/audit/rules.d/50-gpuforge-nvidia.rules"] is None
    assert files["/etc/nftables.conf"] is None
    inputs.update(
        hardening_audit_devices=["/dev/nvidia0"],
        hardening_keep_controller_access=False,
        hardening_cluster_nodes=["10.0.0.10", "10.0.0.11"],
        hardening_monitoring_cidrs=["10.0.0.1/32"],
    )
    assert None not in {digest for _, digest, _, _ in role_files("hardening", inputs)}
    assert role_units("hardening", inputs) == [("nftables.service", False)]


def test_gpu_clocks_from_the_role_options(
    cluster: tuple[ClusterSpec, dict[str, PoolState]],
) -> None:
    """Locked clocks from the spec; application clocks from gpu_tuning's own default (none)."""
    assert cluster[1]["h100"].gpu is not None
    assert cluster[1]["h100"].gpu.application_clocks is None
    clocked = _variant(
        "power_limit_w: 600}", "power_limit_w: 600, clocks: {min_mhz: 1400, max_mhz: 1980}}"
    )["h100"]
    assert clocked.gpu is not None and clocked.gpu.locked_clocks == (1400, 1980)
