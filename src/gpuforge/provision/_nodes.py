"""The node list every cluster module outputs, read from `output -json` into typed records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from gpuforge.errors import ProvisionError

__all__ = ["NODE_FIELDS", "NodeRecord", "merge_nodes", "nodes_from_outputs"]

# The outputs contract shared by every module in terraform/modules/.
NODE_FIELDS = (
    "name",
    "private_ip",
    "pool",
    "gpu_model",
    "gpu_count",
    "instance_type",
    "market",
    "zone",
)
# Fields a node may leave null: owned (on-prem) hardware has no instance type, market or zone.
OPTIONAL_FIELDS = ("instance_type", "market", "zone")
_CONTRACT_FIX = (
    "make the module output a list of objects with "
    + ", ".join(NODE_FIELDS)
    + " (see the outputs.tf of any module in terraform/modules/)"
)


@dataclass(frozen=True, order=True)
class NodeRecord:
    """One provisioned machine as Ansible needs it; `target` names the root it came from.

    `instance_type`, `market` and `zone` are empty where the module reported none (null).
    """

    name: str
    private_ip: str
    pool: str
    gpu_model: str
    gpu_count: int
    instance_type: str
    market: str
    zone: str
    target: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for `--json` output."""
        return asdict(self)


def _is_node_output(name: str, value: Any) -> bool:
    """A `nodes`/`nodes_<pool>` output, or any list of objects that carry a private_ip."""
    if name == "nodes" or name.startswith("nodes_"):
        return True
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and "private_ip" in item for item in value)
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _record(output: str, index: int, item: Any, target: str) -> NodeRecord:
    where = f"output {output}[{index}]" + (f" of target {target}" if target else "")
    if not isinstance(item, dict):
        raise ProvisionError(f"{where} is not an object", _CONTRACT_FIX)
    missing = [
        k for k in NODE_FIELDS if k not in item or (item[k] is None and k not in OPTIONAL_FIELDS)
    ]
    if missing:
        raise ProvisionError(f"{where} lacks {', '.join(missing)}", _CONTRACT_FIX)
    try:
        count = int(item["gpu_count"])
    except (TypeError, ValueError) as error:
        raise ProvisionError(
            f"{where}: gpu_count {item['gpu_count']!r} is not a number", _CONTRACT_FIX
        ) from error
    return NodeRecord(
        name=str(item["name"]),
        private_ip=str(item["private_ip"]),
        pool=str(item["pool"]),
        gpu_model=str(item["gpu_model"]),
        gpu_count=count,
        instance_type=_text(item["instance_type"]),
        market=_text(item["market"]),
        zone=_text(item["zone"]),
        target=target,
    )


def merge_nodes(groups: Iterable[Iterable[NodeRecord]]) -> list[NodeRecord]:
    """Combine node lists (several outputs or roots), sorted by name; a name must mean one node."""
    by_name: dict[str, NodeRecord] = {}
    for group in groups:
        for node in group:
            seen = by_name.setdefault(node.name, node)
            if seen != node:
                raise ProvisionError(
                    f"node name {node.name!r} is used by two different nodes: "
                    f"{seen.target or 'root'}/{seen.pool} and {node.target or 'root'}/{node.pool}",
                    "give every pool a distinct name prefix so node names are unique "
                    "across pools and targets",
                )
    return [by_name[name] for name in sorted(by_name)]


def nodes_from_outputs(outputs: Mapping[str, Any], target: str = "") -> list[NodeRecord]:
    """Read every node list among the root outputs (`output -json`), sorted by name.

    Accepts one `nodes` output or one `nodes_<pool>` output per pool; sensitive outputs are
    skipped, never read.
    """
    groups = []
    for name in sorted(outputs):
        body = outputs[name]
        if not isinstance(body, dict) or "value" not in body or body.get("sensitive"):
            continue
        value = body["value"]
        # A module switched off outputs null (`try(..., null)`): no nodes, not an error.
        if value is None or not _is_node_output(name, value):
            continue
        if not isinstance(value, list):
            raise ProvisionError(
                f"output {name} is a {type(value).__name__}, not a list of nodes", _CONTRACT_FIX
            )
        groups.append([_record(name, i, item, target) for i, item in enumerate(value)])
    return merge_nodes(groups)
