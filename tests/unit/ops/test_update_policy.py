"""Update policies: each kind of change to a live cluster gets its policy (in-place, rolling,
replace, unsupported), from the spec, the lock, the desired state, the Terraform plan and the
drift probe, per pool and per node; a converged cluster has no change at all."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from gpuforge.check import Lock, make_context, solve_lock
from gpuforge.ops import (
    ChangeSet,
    DriftReport,
    classify_changes,
    policy_of_role,
)
from gpuforge.ops import Drift as DriftItem
from gpuforge.provision import Action, PlanSummary, ResourceChange
from gpuforge.spec import SpecDocument, load_spec

REPO = Path(__file__).parents[3]
AS_OF = date(2026, 11, 28)
NODES = {"demo-h100-0": "h100", "demo-h100-1": "h100", "demo-a100-0": "a100"}
Edit = Callable[[dict[str, Any]], None]
_YAML = YAML(typ="safe")


def _load(tmp: Path, source: str, edit: Edit | None, name: str) -> tuple[SpecDocument, Lock]:
    data = _YAML.load((REPO / source).read_text())
    data = copy.deepcopy(data)
    if edit is not None:
        edit(data)
    text = io.StringIO()
    _YAML.dump(data, text)
    path = tmp / f"{name}.yaml"
    path.write_text(text.getvalue())
    doc = load_spec(path)
    return doc, solve_lock(make_context(doc, AS_OF))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("policy")


@pytest.fixture(scope="module")
def base(folder: Path) -> tuple[SpecDocument, Lock]:
    return _load(folder, "examples/local.yaml", None, "base")


def _changes(
    folder: Path, base: tuple[SpecDocument, Lock], edit: Edit, source: str = "examples/local.yaml"
) -> ChangeSet:
    old = base if source == "examples/local.yaml" else _load(folder, source, None, "old")
    new = _load(folder, source, edit, "new")
    return classify_changes(new[0].spec, new[1], old_spec=old[0].spec, old_lock=old[1], nodes=NODES)


def _only(changes: ChangeSet) -> set[tuple[str, str, bool]]:
    return {(c.item, c.policy, c.needs_reboot) for c in changes.changes}


def test_the_same_spec_and_lock_change_nothing(
    folder: Path, base: tuple[SpecDocument, Lock]
) -> None:
    changes = _changes(folder, base, lambda d: None)
    assert changes.empty and changes.nodes() == {} and changes.pools() == {}
    assert changes.counts() == {"in-place": 0, "rolling": 0, "replace": 0, "unsupported": 0}


# ---- in-place ----


def test_exporter_settings_are_in_place(folder: Path, base: tuple[SpecDocument, Lock]) -> None:
    changes = _changes(folder, base, lambda d: d.update(monitoring={"node_exporter": False}))
    assert _only(changes) == {
        ("package prometheus-node-exporter", "in-place", False),
        ("unit prometheus-node-exporter.service", "in-place", False),
        # The monitoring role goes, with it the GPU watch (its unit and files).
        ("unit gpuforge-gpu-watch.service", "in-place", False),
        ("file /etc/gpuforge/gpu-watch.json", "in-place", False),
        ("file /etc/systemd/system/gpuforge-gpu-watch.service", "in-place", False),
        ("file /usr/local/lib/gpuforge-gpu-watch.py", "in-place", False),
    }
    assert {n.policy for n in changes.nodes().values()} == {"in-place"}
    assert set(changes.nodes()) == set(NODES)


def test_the_nccl_environment_is_in_place(folder: Path, base: tuple[SpecDocument, Lock]) -> None:
    def roce(dscp: int) -> Edit:
        return lambda d: d.update(fabric={"type": "roce", "roce": {"dscp": dscp}})

    old = _load(folder, "examples/local.yaml", roce(26), "roce-old")
    new = _load(folder, "examples/local.yaml", roce(30), "roce-new")
    changes = classify_changes(
        new[0].spec, new[1], old_spec=old[0].spec, old_lock=old[1], nodes=NODES
    )
    assert ("file /etc/nccl.conf", "in-place", False) in _only(changes)
    assert {c.policy for c in changes.changes} == {"in-place"}
    assert changes.pools() == {"a100": "in-place", "h100": "in-place"}


def test_gpu_settings_are_in_place(folder: Path, base: tuple[SpecDocument, Lock]) -> None:
    changes = _changes(folder, base, lambda d: d["pools"]["h100"]["gpu"].update(power_limit_w=500))
    assert ("gpu power_limit_w", "in-place", False) in _only(changes)
    assert {c.policy for c in changes.changes} == {"in-place"}
    assert {c.nodes for c in changes.changes} == {("demo-h100-0", "demo-h100-1")}


# ---- rolling ----


def test_a_driver_branch_change_is_rolling_with_a_reboot(
    folder: Path, base: tuple[SpecDocument, Lock]
) -> None:
    changes = _changes(folder, base, lambda d: d["software"].update(driver="570"))
    drivers = [c for c in changes.changes if c.item == "driver"]
    assert {(c.pool, c.old, c.new) for c in drivers} == {
        ("h100", "580.95.05", "570.172.08"),
        ("a100", "580.95.05", "570.172.08"),
    }
    assert all(c.policy == "rolling" and c.needs_reboot for c in drivers)
    assert not [c for c in changes.changes if c.item.startswith("package nvidia-")], (
        "the driver's packages are told by the lock change, not once more"
    )
    node = changes.nodes()["demo-h100-0"]
    assert (node.policy, node.needs_reboot, node.roles) == ("rolling", True, ("nvidia_driver",))


def test_cuda_nccl_and_cudnn_versions_are_rolling_without_a_reboot(
    folder: Path, base: tuple[SpecDocument, Lock]
) -> None:
    changes = _changes(folder, base, lambda d: d["software"].update(cuda="12.8"))
    libraries = {c.item for c in changes.changes if c.source == "lock"}
    assert "cuda" in libraries
    for change in changes.changes:
        if change.item in ("cuda", "nccl", "cudnn"):
            assert (change.policy, change.needs_reboot) == ("rolling", False)


def test_a_mig_layout_is_rolling(folder: Path, base: tuple[SpecDocument, Lock]) -> None:
    changes = _changes(folder, base, lambda d: d["pools"]["a100"]["gpu"].update(mig={"1g.10gb": 7}))
    # The layout, and the MIG role's boot-time config that follows it.
    assert _only(changes) == {
        ("mig layout", "rolling", False),
        ("file /etc/gpuforge/mig-config.yaml", "rolling", False),
    }
    (layout,) = (c for c in changes.changes if c.item == "mig layout")
    assert layout.old == "3g.40gb=2" and layout.new == "1g.10gb=7"
    assert changes.pools() == {"a100": "rolling"}


def test_kernel_module_options_are_rolling_with_a_reboot() -> None:
    assert policy_of_role("fabric", "file", "/etc/modprobe.d/gpuforge-mlx5.conf") == (
        "rolling",
        True,
        "kernel module options take effect when the module loads: drain and reboot",
    )
    assert policy_of_role("fabric", "file", "/etc/gpuforge/roce-qos.conf")[0] == "in-place"
    assert policy_of_role("a-role-nobody-knows", "package")[0] == "rolling"


def test_scaling_down_drains_the_nodes_removed(
    folder: Path, base: tuple[SpecDocument, Lock]
) -> None:
    shrink = _changes(folder, base, lambda d: d["pools"]["h100"].update(count=1))
    assert [(c.item, c.policy, c.nodes) for c in shrink.changes] == [
        ("pools.h100.count", "rolling", ("demo-h100-1",))
    ]
    grow = _changes(folder, base, lambda d: d["pools"]["h100"].update(count=4))
    assert [(c.item, c.policy, c.nodes) for c in grow.changes] == [
        ("pools.h100.count", "in-place", ())
    ]


# ---- replace ----


@pytest.mark.parametrize(
    ("edit", "item"),
    [
        (
            lambda d: d["pools"]["h100"].update(storage={"root_gb": 400}),
            "pools.h100.storage.root_gb",
        ),
        (lambda d: d["pools"]["h100"].update(profile="h100-sxm-8"), "pools.h100.profile"),
        (
            lambda d: d["pools"]["h100"].update(software={"os": "ubuntu-22.04"}),
            "pools.h100.software.os",
        ),
    ],
)
def test_disk_hardware_and_image_are_replaced(
    folder: Path, base: tuple[SpecDocument, Lock], edit: Edit, item: str
) -> None:
    changes = _changes(folder, base, edit)
    replaced = [c for c in changes.changes if c.item == item]
    assert replaced and replaced[0].policy == "replace"
    assert replaced[0].nodes == ("demo-h100-0", "demo-h100-1")
    assert changes.pools()["h100"] == "replace"
    assert "a100" not in changes.pools()


def test_an_instance_type_is_replaced(folder: Path, base: tuple[SpecDocument, Lock]) -> None:
    changes = _changes(
        folder,
        base,
        lambda d: d["pools"]["training"].update(instance_type="p5e.48xlarge"),
        source="examples/aws-training.yaml",
    )
    found = {c.item: c.policy for c in changes.changes}
    assert found["pools.training.instance_type"] == "replace"


# ---- unsupported ----


def test_own_machines_cannot_be_replaced(folder: Path, base: tuple[SpecDocument, Lock]) -> None:
    changes = _changes(
        folder,
        base,
        lambda d: d["pools"]["dgx"].update(storage={"root_gb": 900}),
        source="tests/fixtures/specs/render-onprem.yaml",
    )
    [change] = changes.changes
    assert change.policy == "unsupported" and "did not create" in change.fix


@pytest.mark.parametrize(
    ("edit", "item"),
    [
        (lambda d: d["pools"]["h100"].update(target="aws/us-west-2"), "pools.h100.target"),
        (lambda d: d.update(name="demo2"), "name"),
        (lambda d: d["fabric"].update(type="ethernet"), "fabric.type"),
    ],
)
def test_moves_between_targets_names_and_fabrics_are_unsupported_with_a_way_out(
    folder: Path, base: tuple[SpecDocument, Lock], edit: Edit, item: str
) -> None:
    new = _load(folder, "examples/local.yaml", edit, "unsupported")
    changes = classify_changes(new[0].spec, new[1], old_spec=base[0].spec, nodes=NODES)
    found = [c for c in changes.changes if c.item == item]
    assert found and found[0].policy == "unsupported" and found[0].fix and found[0].reason


# ---- the Terraform plan and the drift probe ----


def _plan(*changes: tuple[str, Action]) -> PlanSummary:
    return PlanSummary(
        changes=tuple(
            ResourceChange(address, "null_resource", action) for address, action in changes
        )
    )


def test_the_terraform_plan_names_each_node_and_its_policy(
    base: tuple[SpecDocument, Lock],
) -> None:
    plan = _plan(
        ('module.pool_h100.null_resource.node["demo-h100-0"]', Action.REPLACE),
        ('module.pool_h100.null_resource.node["demo-h100-1"]', Action.UPDATE),
        ('module.pool_h100.null_resource.node["demo-h100-2"]', Action.CREATE),
        ('module.pool_a100.null_resource.node["demo-a100-0"]', Action.DELETE),
        ("module.network.null_resource.bridge", Action.NO_OP),
    )
    changes = classify_changes(base[0].spec, base[1], nodes=NODES, plans={"local": plan})
    policies = {node: n.policy for node, n in changes.nodes().items()}
    assert policies == {
        "demo-h100-0": "replace",
        "demo-h100-1": "in-place",
        "demo-h100-2": "in-place",
        "demo-a100-0": "rolling",
    }
    assert changes.nodes()["demo-a100-0"].pool == "a100"
    assert len(changes.changes) == 4, "no-op resources are no change"


def test_drift_is_classified_and_folded_into_the_lock_change_that_explains_it(
    folder: Path, base: tuple[SpecDocument, Lock]
) -> None:
    new = _load(folder, "examples/local.yaml", lambda d: d["software"].update(driver="570"), "d")
    driver = "nvidia-driver-570-server-open"
    drift = DriftReport(
        nodes=list(NODES),
        drifts={
            "demo-h100-0": [
                DriftItem("demo-h100-0", "GF-DRIFT-001", driver, "570", "absent", "nvidia_driver"),
                DriftItem(
                    "demo-h100-0", "GF-DRIFT-008", "power_limit_w", "600", "500", "gpu_tuning"
                ),
            ],
            "demo-h100-1": [
                DriftItem(
                    "demo-h100-1", "GF-DRIFT-008", "power_limit_w", "600", "500", "gpu_tuning"
                ),
            ],
        },
    )
    changes = classify_changes(new[0].spec, new[1], old_lock=base[1], nodes=NODES, drift=drift)
    by_item = {(c.item, c.pool): c for c in changes.changes}
    assert by_item[("driver", "h100")].nodes == ("demo-h100-0",), "only the node that lacks it"
    assert ("driver", "a100") not in by_item, "no a100 node lacks the new driver"
    power = by_item[("gpu power_limit_w", "h100")]
    assert (power.policy, power.nodes, power.old, power.new) == (
        "in-place",
        ("demo-h100-0", "demo-h100-1"),
        "500",
        "600",
    )
    assert changes.nodes()["demo-h100-0"].policy == "rolling"


def test_a_node_the_probe_could_not_reach_is_rolling(base: tuple[SpecDocument, Lock]) -> None:
    drift = DriftReport(nodes=list(NODES), unreachable={"demo-a100-0": "ssh: timed out"})
    changes = classify_changes(base[0].spec, base[1], nodes=NODES, drift=drift)
    assert [(c.item, c.policy, c.nodes) for c in changes.changes] == [
        ("probe", "rolling", ("demo-a100-0",))
    ]


def test_module_and_runtime_drift_are_in_place(base: tuple[SpecDocument, Lock]) -> None:
    """A driver module not loaded is loaded on the running node; a container engine whose
    default runtime moved is set again; neither is taken for a package change."""
    drift = DriftReport(
        nodes=list(NODES),
        drifts={
            "demo-h100-0": [
                DriftItem(
                    "demo-h100-0",
                    "GF-DRIFT-011",
                    "nvidia_uvm",
                    "loaded",
                    "not loaded",
                    "nvidia_driver",
                ),
                DriftItem(
                    "demo-h100-0",
                    "GF-DRIFT-014",
                    "containerd default runtime",
                    "nvidia",
                    "not nvidia",
                    "container_toolkit",
                ),
            ]
        },
    )
    changes = classify_changes(base[0].spec, base[1], nodes=NODES, drift=drift)
    assert sorted((c.item, c.policy, c.nodes) for c in changes.changes) == [
        ("module nvidia_uvm", "in-place", ("demo-h100-0",)),
        ("runtime containerd default runtime", "in-place", ("demo-h100-0",)),
    ]
