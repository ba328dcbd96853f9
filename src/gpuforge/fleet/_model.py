"""The records the fleet hands out: what to start (NodeSpec) and what is there (Node)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network


class NodeState(StrEnum):
    """Lifecycle state of one node as `status` reports it."""

    RUNNING = "running"
    STOPPED = "stopped"
    DEAD = "dead"


@dataclass(frozen=True)
class NodeSpec:
    """Everything needed to start one node; the provisioner builds one per Terraform resource."""

    cluster: str
    name: str
    address: IPv4Address
    subnet: IPv4Network
    profile: str
    pool: str = "default"


@dataclass(frozen=True)
class Node:
    """One node of the fleet as it is now: identity, placement, state and its PID 1 on the host."""

    name: str
    address: str
    cluster: str
    pool: str
    profile: str
    state: NodeState
    pid: int = 0
    faults: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready view, used by `fleet status --json` and the provisioner."""
        data = asdict(self)
        data["state"] = self.state.value
        data["faults"] = list(self.faults)
        return data
