"""Nodes -> Ansible inventory: YAML inventory, dynamic-inventory JSON, and per-host vars."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML

from gpuforge.errors import InputError
from gpuforge.provision._nodes import NodeRecord

__all__ = [
    "ROOT_GROUP",
    "build_inventory",
    "dynamic_inventory",
    "group_token",
    "host_vars",
    "inventory_yaml",
]

# Every provisioned node sits in this group; the per-pool/model/market groups are its children.
ROOT_GROUP = "gpu_nodes"


def group_token(text: str) -> str:
    """Lower-case `text` and turn anything but letters, digits and _ into _ (Ansible-safe)."""
    return re.sub(r"[^a-z0-9_]", "_", text.lower())


def _groups_of(node: NodeRecord) -> list[str]:
    groups = [f"pool_{group_token(node.pool)}", f"gpu_{group_token(node.gpu_model)}"]
    # Owned hardware has no market: no `market_` group rather than an empty-named one.
    if node.market:
        groups.append(f"market_{group_token(node.market)}")
    if node.target:
        groups.append(f"target_{group_token(node.target)}")
    return groups


def _vars_of(node: NodeRecord, extra: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "ansible_host": node.private_ip,
        "gpuforge_gpu_count": node.gpu_count,
        "gpuforge_gpu_model": node.gpu_model,
        "gpuforge_instance_type": node.instance_type,
        "gpuforge_market": node.market,
        "gpuforge_pool": node.pool,
        "gpuforge_zone": node.zone,
    }
    if node.target:
        values["gpuforge_target"] = node.target
    values.update(extra)
    return dict(sorted(values.items()))


def build_inventory(
    nodes: Sequence[NodeRecord],
    extra_host_vars: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Build the YAML-inventory structure: every node in `gpu_nodes`, grouped by pool/GPU/market.

    `extra_host_vars` maps a node name to more host vars (e.g. ansible_user); they win over the
    generated ones. Everything is sorted, so the same nodes always give the same inventory.
    """
    extra = extra_host_vars or {}
    unknown = sorted(set(extra) - {node.name for node in nodes})
    if unknown:
        raise InputError(
            f"host vars given for unknown node(s): {', '.join(unknown)}",
            "pass extra host vars only for nodes the outputs list",
        )
    ordered = sorted(nodes, key=lambda node: node.name)
    members: dict[str, list[str]] = {}
    for node in ordered:
        for group in _groups_of(node):
            members.setdefault(group, []).append(node.name)
    children = {group: {"hosts": dict.fromkeys(members[group])} for group in sorted(members)}
    hosts = {node.name: _vars_of(node, extra.get(node.name, {})) for node in ordered}
    return {"all": {"children": {ROOT_GROUP: {"hosts": hosts, "children": children}}}}


def _root(inventory: Mapping[str, Any]) -> Mapping[str, Any]:
    root: Mapping[str, Any] = inventory["all"]["children"][ROOT_GROUP]
    return root


def dynamic_inventory(inventory: Mapping[str, Any]) -> dict[str, Any]:
    """The same inventory in Ansible's dynamic-inventory `--list` JSON shape (with `_meta`)."""
    root = _root(inventory)
    listing: dict[str, Any] = {
        "_meta": {"hostvars": dict(root["hosts"])},
        "all": {"children": [ROOT_GROUP, "ungrouped"]},
        ROOT_GROUP: {"hosts": list(root["hosts"]), "children": list(root["children"])},
        "ungrouped": {"hosts": []},
    }
    for group, body in root["children"].items():
        listing[group] = {"hosts": list(body["hosts"])}
    return listing


def host_vars(inventory: Mapping[str, Any], host: str) -> dict[str, Any]:
    """The vars of one host, as a dynamic inventory answers `--host HOST`."""
    hosts = _root(inventory)["hosts"]
    if host not in hosts:
        known = ", ".join(hosts) or "none"
        raise InputError(f"no host named {host!r} in the inventory", f"use one of: {known}")
    return dict(hosts[host])


def inventory_yaml(inventory: Mapping[str, Any]) -> str:
    """Render the inventory as YAML, block style, in the order it was built."""
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(inventory, buffer)
    return buffer.getvalue()
