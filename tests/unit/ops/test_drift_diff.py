"""The diff of a node's probe report against its pool's desired state, on fixture reports."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from gpuforge.check import read_lock
from gpuforge.desired import DRIFT_CODES, ROLES, PoolState, desired_state
from gpuforge.ops import diff_node, fix_roles
from gpuforge.ops._converge import switch_vars
from gpuforge.spec import load_spec, load_spec_text

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="module")
def states() -> dict[str, PoolState]:
    """The example local cluster's desired state (an H100 pool and an A100 pool with MIG), an
    H100 pool whose GPUs also have locked and application clocks, and an H100 pool on RoCE
    whose GPU devices belong to a group."""
    lock = read_lock(EXAMPLES / "local.lock")
    found = desired_state(load_spec(EXAMPLES / "local.yaml").spec, lock)
    gpu = found["h100"].gpu
    assert gpu is not None
    clocks = dataclasses.replace(gpu, locked_clocks=(1400, 1980), application_clocks=(2619, 1980))
    text = (EXAMPLES / "local.yaml").read_text(encoding="utf-8")
    roce = text.replace("fabric: {type: infiniband}", "fabric: {type: roce}")
    roce += "security: {gpu_group: gpu}\n"
    grouped = desired_state(load_spec_text(roce, "roce.yaml").spec, lock)["h100"]
    return {**found, "clocked": dataclasses.replace(found["h100"], gpu=clocks), "roce": grouped}


def clean_report(state: PoolState) -> dict[str, Any]:
    """What node_state returns on a node that holds exactly the desired state."""
    gpu = state.gpu
    assert gpu is not None
    return {
        "packages": {
            p.name: {"version": p.version or "1.0", "held": p.hold} for p in state.packages
        },
        "units": {
            u.name: {"load": "loaded", "enabled": "enabled", "active": "active"}
            for u in state.units
        },
        # A file whose content the node makes has some digest there.
        "files": {f.path: {"sha256": f.sha256 or "e" * 64, "mode": f.mode} for f in state.files},
        "cdi_specs": {path: {"current": True} for path in state.probe_args()["cdi_specs"]},
        "modules": {m.name: True for m in state.modules},
        # No container engine installed (as on the fleet): nothing to configure.
        "runtimes": {r.engine: {"installed": False, "configured": False} for r in state.runtimes},
        "gpus": [
            {
                "index": i,
                "persistence_mode": gpu.persistence_mode,
                "power_limit_w": float(gpu.power_limit_w or 400),
                "compute_mode": gpu.compute_mode,
                "graphics_clock_mhz": float((gpu.locked_clocks or (345, 0))[0]),
                "application_clocks_mhz": [float(v) for v in gpu.application_clocks or (0, 0)],
            }
            for i in range(state.gpus_per_node)
        ],
        "mig": {str(i): dict(state.mig.config or {}) for i in range(8)} if state.mig else {},
    }


def test_clean_node_has_no_drift(states: dict[str, PoolState]) -> None:
    """A node holding every declared item is not drifted; undeclared extras are not drift."""
    for state in states.values():
        report = clean_report(state)
        report["packages"]["vim"] = {"version": "9.0", "held": False}
        report["files"]["/etc/motd"] = {"sha256": "0" * 64, "mode": "0600"}
        assert diff_node("n1", state, report) == []


def _mutate(report: dict[str, Any], kind: str) -> None:
    if kind == "version":
        report["packages"]["libnccl2"]["version"] = "2.18.5-1+cuda12.2"
    elif kind == "hold":
        report["packages"]["libnccl2"]["held"] = False
    elif kind == "service":
        report["units"]["nvidia-dcgm.service"].update(enabled="disabled", active="inactive")
    elif kind == "file":
        report["files"]["/etc/nccl.conf"]["sha256"] = "f" * 64
    elif kind == "power":
        report["gpus"][3]["power_limit_w"] = 500.0
    elif kind == "persistence":
        for gpu in report["gpus"]:
            gpu["persistence_mode"] = False
    elif kind == "mig":
        report["mig"]["0"] = {"1g.10gb": 7}
    elif kind == "mig-boot-file":
        report["files"]["/etc/gpuforge/mig-config.yaml"]["sha256"] = "f" * 64
    elif kind == "cdi-spec-removed":
        report["files"]["/etc/cdi/nvidia.yaml"] = {"sha256": None, "mode": None}
    elif kind == "cdi-spec-edited":
        report["cdi_specs"]["/etc/cdi/nvidia.yaml"]["current"] = False
    elif kind == "cdi-spec-mode":
        report["files"]["/etc/cdi/nvidia.yaml"]["mode"] = "0666"
    elif kind == "module-unloaded":
        report["modules"]["nvidia_uvm"] = False
    elif kind == "fabric-module-unloaded":
        report["modules"]["ib_umad"] = False
    elif kind == "runtime":
        report["runtimes"]["containerd"] = {"installed": True, "configured": False}
    elif kind == "clocks-unlocked":
        report["gpus"][2]["graphics_clock_mhz"] = 345.0
    elif kind == "application-clocks":
        report["gpus"][5]["application_clocks_mhz"] = [1593.0, 1410.0]
    elif kind == "roce-qos-edited":
        report["files"]["/etc/gpuforge/roce-qos.conf"]["sha256"] = "f" * 64
    elif kind == "roce-qos-script-mode":
        report["files"]["/usr/local/sbin/gpuforge-roce-qos"]["mode"] = "0644"
    elif kind == "roce-qos-unit-disabled":
        # A oneshot its handler runs: only its boot setting is judged.
        report["units"]["gpuforge-roce-qos.service"].update(enabled="disabled", active="inactive")
    elif kind == "udev-rule-edited":
        report["files"]["/etc/udev/rules.d/70-gpuforge-gpu-access.rules"]["sha256"] = "f" * 64
    elif kind == "gpu-watch-allow-list-edited":
        report["files"]["/etc/gpuforge/gpu-watch.json"]["sha256"] = "f" * 64
    elif kind == "device-options-removed":
        report["files"]["/etc/modprobe.d/gpuforge-gpu-access.conf"] = {"sha256": None, "mode": None}


CASES = [
    ("h100", "version", {"GF-DRIFT-001"}, ["nvidia_repo", "nccl"]),
    ("h100", "hold", {"GF-DRIFT-002"}, ["nccl"]),
    ("h100", "service", {"GF-DRIFT-003", "GF-DRIFT-004"}, ["dcgm"]),
    ("h100", "file", {"GF-DRIFT-005"}, ["nccl"]),
    ("h100", "power", {"GF-DRIFT-008"}, ["gpu_tuning"]),
    ("h100", "persistence", {"GF-DRIFT-007"}, ["gpu_tuning"]),
    ("a100", "mig", {"GF-DRIFT-010"}, ["mig"]),
    ("a100", "mig-boot-file", {"GF-DRIFT-005"}, ["mig"]),
    ("h100", "cdi-spec-removed", {"GF-DRIFT-005"}, ["container_toolkit"]),
    ("h100", "cdi-spec-edited", {"GF-DRIFT-005"}, ["container_toolkit"]),
    ("h100", "cdi-spec-mode", {"GF-DRIFT-006"}, ["container_toolkit"]),
    ("h100", "module-unloaded", {"GF-DRIFT-011"}, ["nvidia_driver"]),
    ("a100", "fabric-module-unloaded", {"GF-DRIFT-011"}, ["fabric"]),
    ("h100", "runtime", {"GF-DRIFT-014"}, ["container_toolkit"]),
    ("clocked", "clocks-unlocked", {"GF-DRIFT-012"}, ["gpu_tuning"]),
    ("clocked", "application-clocks", {"GF-DRIFT-013"}, ["gpu_tuning"]),
    ("roce", "roce-qos-edited", {"GF-DRIFT-005"}, ["fabric"]),
    ("roce", "roce-qos-script-mode", {"GF-DRIFT-006"}, ["fabric"]),
    ("roce", "roce-qos-unit-disabled", {"GF-DRIFT-003"}, ["fabric"]),
    ("roce", "udev-rule-edited", {"GF-DRIFT-005"}, ["gpu_access"]),
    ("roce", "device-options-removed", {"GF-DRIFT-005"}, ["gpu_access"]),
    ("h100", "gpu-watch-allow-list-edited", {"GF-DRIFT-005"}, ["monitoring"]),
]


@pytest.mark.parametrize(("pool", "kind", "codes", "roles"), CASES)
def test_each_drift_kind_has_its_code_and_role(
    states: dict[str, PoolState], pool: str, kind: str, codes: set[str], roles: list[str]
) -> None:
    """Each drift is reported with its registered code, and fixed by its owning roles only."""
    report = copy.deepcopy(clean_report(states[pool]))
    _mutate(report, kind)
    drifts = diff_node("n1", states[pool], report)
    assert {d.code for d in drifts} == codes
    assert all(d.code in DRIFT_CODES for d in drifts)
    assert fix_roles(drifts, ROLES) == roles


def test_power_limit_drift_names_the_gpu(states: dict[str, PoolState]) -> None:
    """Expected and actual are shown for the one GPU that drifted."""
    report = clean_report(states["h100"])
    _mutate(report, "power")
    (drift,) = diff_node("n1", states["h100"], report)
    assert (drift.item, drift.expected, drift.actual) == ("gpu3 power limit", "600 W", "500 W")


def test_clock_drift_shows_the_range_and_the_clocks(states: dict[str, PoolState]) -> None:
    """Locked clocks: the GPU's clock against the range; application clocks: both values."""
    report = clean_report(states["clocked"])
    _mutate(report, "clocks-unlocked")
    _mutate(report, "application-clocks")
    shown = {d.item: (d.expected, d.actual) for d in diff_node("n1", states["clocked"], report)}
    assert shown == {
        "gpu2 locked clocks": ("1400-1980 MHz", "345 MHz"),
        "gpu5 application clocks": (
            "memory 2619, graphics 1980 MHz",
            "memory 1593, graphics 1410 MHz",
        ),
    }


def test_a_cdi_spec_nothing_could_generate_is_not_drift(states: dict[str, PoolState]) -> None:
    """Where nvidia-ctk could not generate a spec to compare with, only presence is judged."""
    report = clean_report(states["h100"])
    report["cdi_specs"]["/etc/cdi/nvidia.yaml"]["current"] = None
    assert diff_node("n1", states["h100"], report) == []
    _mutate(report, "cdi-spec-edited")
    (drift,) = diff_node("n1", states["h100"], report)
    assert drift.expected == "as `nvidia-ctk cdi generate` makes it"


def test_no_module_support_is_not_drift(states: dict[str, PoolState]) -> None:
    """A kernel without module support reports every module as unknown: nothing to judge."""
    report = clean_report(states["h100"])
    report["modules"] = {m.name: None for m in states["h100"].modules}
    assert diff_node("n1", states["h100"], report) == []


def test_missing_file_and_package(states: dict[str, PoolState]) -> None:
    """An absent file or package is drift, reported as absent."""
    report = clean_report(states["h100"])
    report["files"]["/etc/nccl.conf"] = {"sha256": None, "mode": None}
    report["packages"].pop("libnccl-dev")
    actual = {(d.code, d.item): d.actual for d in diff_node("n1", states["h100"], report)}
    assert actual == {
        ("GF-DRIFT-005", "/etc/nccl.conf"): "absent",
        ("GF-DRIFT-001", "libnccl-dev"): "absent",
    }


def test_switches_follow_the_plan() -> None:
    """Each role's switch is an expression true exactly on the nodes whose plan lists the role."""
    switches = switch_vars({"n1": ["nccl"], "n2": ["gpu_tuning"]})
    assert switches["gpuforge_converge_roles"] == {"n1": ["nccl"], "n2": ["gpu_tuning"]}
    assert set(switches) == {"gpuforge_converge_roles"} | {f"gpuforge_enable_{r}" for r in ROLES}
