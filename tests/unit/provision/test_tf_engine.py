"""The engine against real Terraform and the null provider: full lifecycle, errors, secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gpuforge.errors import ProvisionError
from gpuforge.provision import (
    Action,
    ActionCounts,
    ProgressEvent,
    TerraformBinary,
    nodes_from_outputs,
)

POOLS: dict[str, dict[str, Any]] = {
    "training": {
        "count": 2,
        "gpu_model": "H100",
        "gpu_count": 8,
        "instance_type": "p5.48xlarge",
        "market": "spot",
        "zone": "us-west-2a",
        "generation": 1,
    },
    "inference": {
        "count": 2,
        "gpu_model": "L4",
        "gpu_count": 1,
        "instance_type": "g6.xlarge",
        "market": "on-demand",
        "zone": "us-west-2b",
        "generation": 1,
    },
}


def _write_pools(root: Path, pools: dict[str, dict[str, Any]]) -> None:
    (root / "terraform.tfvars.json").write_text(json.dumps({"pools": pools}), encoding="utf-8")


def _with(changes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: {**pool, **changes.get(name, {})} for name, pool in POOLS.items()}


def test_lifecycle_create_replace_shrink_destroy(
    binary: TerraformBinary,
    module_copy: Callable[..., Path],
    offline_engine: Callable[..., Any],
) -> None:
    root = module_copy("nodes")
    _write_pools(root, POOLS)
    events: list[ProgressEvent] = []
    engine = offline_engine(root, binary, on_event=events.append)
    engine.init()
    assert (root / ".terraform").is_dir()

    first = engine.plan()
    assert first.has_changes and first.plan_file == root / "tfplan"
    summary = engine.show_plan()
    assert summary.by_type == {"null_resource": ActionCounts(create=4)}
    assert {c.address for c in summary.changes} == {
        f'null_resource.node["node-{pool}-{i}"]' for pool in POOLS for i in range(2)
    }

    events.clear()
    engine.apply()
    if binary.supports_json_ui:
        started = {e.address for e in events if e.kind == "apply_start"}
        completed = [e for e in events if e.kind == "apply_complete"]
        assert started == {c.address for c in summary.changes}
        assert len(completed) == 4 and all(e.action == "create" for e in completed)
    else:
        assert any("Apply complete" in e.message for e in events)

    outputs = engine.outputs()
    nodes = nodes_from_outputs(outputs)
    assert [n.name for n in nodes] == [
        "node-inference-0",
        "node-inference-1",
        "node-training-0",
        "node-training-1",
    ]
    assert nodes[2].private_ip == "10.0.1.10" and nodes[2].gpu_count == 8
    ids_before = outputs["node_ids"]["value"]

    assert engine.plan().has_changes is False
    assert engine.show_plan().totals == ActionCounts(no_op=4)

    # A new generation of the training pool replaces its two nodes and touches nothing else.
    _write_pools(root, _with({"training": {"generation": 2}}))
    assert engine.plan().has_changes
    replace = engine.show_plan()
    assert replace.by_type["null_resource"] == ActionCounts(replace=2, no_op=2)
    replaced = [c for c in replace.changes if c.action is Action.REPLACE]
    assert [c.address for c in replaced] == [
        'null_resource.node["node-training-0"]',
        'null_resource.node["node-training-1"]',
    ]
    engine.apply()
    ids_after = engine.outputs()["node_ids"]["value"]
    assert ids_after["node-training-0"] != ids_before["node-training-0"]
    assert ids_after["node-inference-0"] == ids_before["node-inference-0"]

    # A node gone by itself (a reclaimed spot machine) is replaced alone when asked by address.
    gone = 'null_resource.node["node-training-1"]'
    assert engine.plan(replace=[gone]).has_changes
    reclaimed = engine.show_plan()
    assert reclaimed.totals == ActionCounts(replace=1, no_op=3)
    assert [c.address for c in reclaimed.changes if c.action is Action.REPLACE] == [gone]
    engine.apply()
    ids_replaced = engine.outputs()["node_ids"]["value"]
    assert ids_replaced["node-training-1"] != ids_after["node-training-1"]
    assert ids_replaced["node-training-0"] == ids_after["node-training-0"]

    # Counting the inference pool down destroys exactly one node.
    _write_pools(root, _with({"training": {"generation": 2}, "inference": {"count": 1}}))
    engine.plan()
    shrink = engine.show_plan()
    assert shrink.totals == ActionCounts(delete=1, no_op=3)
    assert [c.address for c in shrink.changes if c.action is Action.DELETE] == [
        'null_resource.node["node-inference-1"]'
    ]
    engine.apply()
    assert len(nodes_from_outputs(engine.outputs())) == 3

    engine.destroy()
    assert nodes_from_outputs(engine.outputs()) == []
    # Terraform 1.0 still plans to drop the old outputs here; no resource is left to destroy.
    engine.plan(destroy=True)
    assert engine.show_plan().totals.changes == 0


def test_destroy_plan_counts_every_resource(
    any_binary: TerraformBinary,
    module_copy: Callable[..., Path],
    offline_engine: Callable[..., Any],
) -> None:
    root = module_copy("nodes")
    _write_pools(root, POOLS)
    engine = offline_engine(root, any_binary)
    engine.init()
    engine.plan()
    engine.apply()
    assert engine.plan("destroy.tfplan", destroy=True).has_changes
    summary = engine.show_plan("destroy.tfplan")
    assert summary.totals == ActionCounts(delete=4)
    engine.apply("destroy.tfplan")
    assert engine.outputs().get("nodes", {}).get("value", []) == []


def test_bad_hcl_fails_init_with_file_and_line(
    binary: TerraformBinary, tmp_path: Path, offline_engine: Callable[..., Any]
) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "null_resource" "x" {\n  triggers = {\n    a = \n  }\n}\n', encoding="utf-8"
    )
    engine = offline_engine(tmp_path, binary)
    with pytest.raises(ProvisionError) as caught:
        engine.init()
    assert "init failed" in caught.value.message
    assert "main.tf:3: Invalid expression" in caught.value.message
    assert caught.value.fix.startswith(f"correct {tmp_path / 'main.tf'} at line 3")


def test_plan_error_reports_the_diagnostic(
    binary: TerraformBinary, tmp_path: Path, offline_engine: Callable[..., Any]
) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "null_resource" "x" {\n  triggers = {\n    a = var.missing\n  }\n}\n',
        encoding="utf-8",
    )
    events: list[ProgressEvent] = []
    engine = offline_engine(tmp_path, binary, on_event=events.append)
    engine.init()
    with pytest.raises(ProvisionError) as caught:
        engine.plan()
    assert "main.tf:3: Reference to undeclared input variable" in caught.value.message
    assert 'variable with the name "missing"' in caught.value.message
    if binary.supports_json_ui:
        diagnostics = [e.diagnostic for e in events if e.diagnostic is not None]
        assert diagnostics and diagnostics[0].line == 3 and diagnostics[0].file == "main.tf"
    assert [(d.file, d.line) for d in engine.validate()] == [("main.tf", 3)]


def test_secret_values_are_masked_in_events(
    any_binary: TerraformBinary,
    module_copy: Callable[..., Path],
    offline_engine: Callable[..., Any],
) -> None:
    root = module_copy("echo")
    secret = "s3cr3t-token-4242"
    lines: list[str] = []
    engine = offline_engine(
        root,
        any_binary,
        env={"TF_VAR_greeting": secret},
        on_event=lambda e: lines.append(e.message),
    )
    engine.init()
    engine.plan()
    engine.apply()
    printed = "\n".join(lines)
    assert "greeting=***" in printed
    assert secret not in printed


def test_missing_plan_file_is_a_provision_error(
    any_binary: TerraformBinary,
    module_copy: Callable[..., Path],
    offline_engine: Callable[..., Any],
) -> None:
    root = module_copy("echo")
    engine = offline_engine(root, any_binary)
    engine.init()
    with pytest.raises(ProvisionError) as caught:
        engine.show_plan("no-such.tfplan")
    assert "show failed" in caught.value.message and caught.value.fix


def test_failed_apply_streams_apply_errored(
    binary: TerraformBinary, tmp_path: Path, offline_engine: Callable[..., Any]
) -> None:
    (tmp_path / "main.tf").write_text(
        'terraform {\n  required_providers {\n    null = { source = "hashicorp/null" }\n  }\n}\n'
        'resource "null_resource" "fine" {}\n'
        'resource "null_resource" "broken" {\n'
        '  provisioner "local-exec" {\n    command = "exit 3"\n  }\n}\n',
        encoding="utf-8",
    )
    events: list[ProgressEvent] = []
    engine = offline_engine(tmp_path, binary, on_event=events.append)
    engine.init()
    engine.plan()
    with pytest.raises(ProvisionError) as caught:
        engine.apply()
    assert "apply failed" in caught.value.message and "local-exec" in caught.value.message
    if binary.supports_json_ui:
        errored = [e.address for e in events if e.kind == "apply_errored"]
        assert errored == ["null_resource.broken"]
        assert "null_resource.fine" in {e.address for e in events if e.kind == "apply_complete"}


def test_only_secret_looking_variables_are_masked(
    any_binary: TerraformBinary, tmp_path: Path, offline_engine: Callable[..., Any]
) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "x" {}\n'
        'resource "null_resource" "say" {\n  provisioner "local-exec" {\n'
        '    command = "echo region=us-west-2 key=abcd1234 x=${var.x}"\n  }\n}\n',
        encoding="utf-8",
    )
    seen: list[ProgressEvent] = []
    env = {"AWS_REGION": "us-west-2", "AWS_SECRET_ACCESS_KEY": "abcd1234", "TF_VAR_x": "v-123"}
    engine = offline_engine(tmp_path, any_binary, env=env, on_event=seen.append)
    engine.init()
    engine.plan()
    engine.apply()
    said = [e.message for e in seen if "region=" in e.message and "(local-exec)" in e.message]
    assert said and said[-1].endswith("region=us-west-2 key=*** x=***")
