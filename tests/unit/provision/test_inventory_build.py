"""Outputs -> nodes -> Ansible inventory, against sample `output -json` documents and goldens."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from gpuforge.errors import InputError, ProvisionError
from gpuforge.provision import (
    NodeRecord,
    build_inventory,
    dynamic_inventory,
    host_vars,
    inventory_yaml,
    merge_nodes,
    nodes_from_outputs,
)

OUTPUTS = Path(__file__).resolve().parents[2] / "fixtures" / "tf" / "outputs"
# Set GPUFORGE_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
UPDATE = os.environ.get("GPUFORGE_UPDATE_GOLDEN") == "1"


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((OUTPUTS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def _golden(name: str, text: str) -> None:
    path = OUTPUTS / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs (GPUFORGE_UPDATE_GOLDEN=1)"


def _combined() -> list[NodeRecord]:
    return merge_nodes(
        [
            nodes_from_outputs(_load("aws"), target="aws"),
            nodes_from_outputs(_load("onprem"), target="onprem"),
        ]
    )


def test_multi_pool_outputs_give_sorted_typed_nodes() -> None:
    nodes = nodes_from_outputs(_load("aws"), target="aws")
    assert [n.name for n in nodes] == ["prod-inference-0", "prod-training-0", "prod-training-1"]
    assert nodes[1] == NodeRecord(
        name="prod-training-0",
        private_ip="10.20.1.10",
        pool="training",
        gpu_model="H100",
        gpu_count=8,
        instance_type="p5.48xlarge",
        market="spot",
        zone="us-west-2a",
        target="aws",
    )


def test_single_nodes_output_with_null_zone_and_string_count() -> None:
    (node,) = nodes_from_outputs(_load("onprem"))
    assert (node.zone, node.gpu_count, node.target) == ("", 4, "")


def test_inventory_yaml_matches_golden() -> None:
    _golden("inventory.golden.yaml", inventory_yaml(build_inventory(_combined())))


def test_dynamic_inventory_matches_golden() -> None:
    listing = dynamic_inventory(build_inventory(_combined()))
    _golden("inventory.golden.json", json.dumps(listing, indent=2, sort_keys=True) + "\n")


def test_groups_and_host_vars() -> None:
    inventory = build_inventory(_combined(), {"lab-dgx-0": {"ansible_user": "ops"}})
    listing = dynamic_inventory(inventory)
    assert listing["gpu_a100_sxm4_80gb"]["hosts"] == ["lab-dgx-0"]
    assert listing["pool_training"]["hosts"] == ["prod-training-0", "prod-training-1"]
    assert listing["market_on_demand"]["hosts"] == ["lab-dgx-0", "prod-inference-0"]
    assert listing["target_onprem"]["hosts"] == ["lab-dgx-0"]
    assert sorted(listing["gpu_nodes"]["hosts"]) == sorted(listing["_meta"]["hostvars"])
    assert host_vars(inventory, "lab-dgx-0") == {
        "ansible_host": "192.168.50.21",
        "ansible_user": "ops",
        "gpuforge_gpu_count": 4,
        "gpuforge_gpu_model": "A100-SXM4-80GB",
        "gpuforge_instance_type": "dgx-a100",
        "gpuforge_market": "on-demand",
        "gpuforge_pool": "lab",
        "gpuforge_target": "onprem",
        "gpuforge_zone": "",
    }


def test_secrets_and_unrelated_outputs_stay_out() -> None:
    text = inventory_yaml(build_inventory(nodes_from_outputs(_load("aws"))))
    assert "hunter2" not in text and "vpc-0abc1234" not in text


def test_inventory_is_independent_of_input_order() -> None:
    nodes = _combined()
    assert build_inventory(list(reversed(nodes))) == build_inventory(nodes)


def test_unknown_host_is_an_input_error() -> None:
    inventory = build_inventory(_combined())
    with pytest.raises(InputError) as caught:
        host_vars(inventory, "nope")
    assert "lab-dgx-0" in caught.value.fix
    with pytest.raises(InputError):
        build_inventory(_combined(), {"nope": {"ansible_user": "x"}})


def _node(**fields: Any) -> dict[str, Any]:
    base = {
        "name": "n0",
        "private_ip": "10.0.0.1",
        "pool": "p",
        "gpu_model": "H100",
        "gpu_count": 8,
        "instance_type": "p5.48xlarge",
        "market": "spot",
        "zone": "z",
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ({"nodes": {"value": [{"name": "n0"}]}}, "output nodes[0] lacks private_ip, pool"),
        ({"nodes": {"value": "n0"}}, "output nodes is a str, not a list of nodes"),
        ({"nodes_a": {"value": [_node(gpu_count="eight")]}}, "gpu_count 'eight' is not a number"),
        ({"nodes_a": {"value": [_node(private_ip=None)]}}, "lacks private_ip"),
        (
            {"nodes_a": {"value": [_node()]}, "nodes_b": {"value": [_node(pool="q")]}},
            "node name 'n0' is used by two different nodes",
        ),
    ],
)
def test_contract_violations_are_reported(outputs: dict[str, Any], message: str) -> None:
    with pytest.raises(ProvisionError) as caught:
        nodes_from_outputs(outputs)
    assert message in caught.value.message
    assert "name, private_ip, pool" in caught.value.fix or "unique" in caught.value.fix


def test_same_node_in_two_outputs_counts_once() -> None:
    outputs = {"nodes": {"value": [_node()]}, "nodes_p": {"value": [_node()]}}
    assert len(nodes_from_outputs(outputs)) == 1


def test_null_node_output_means_no_nodes() -> None:
    assert nodes_from_outputs({"nodes": {"value": None}, "nodes_a": {"value": []}}) == []


def test_unnamed_list_of_node_objects_is_read() -> None:
    assert [n.name for n in nodes_from_outputs({"gpu_hosts": {"value": [_node()]}})] == ["n0"]
    assert nodes_from_outputs({"ids": {"value": ["a", "b"]}}) == []
