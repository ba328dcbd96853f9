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


# How a deployment names itself to `fleet node-up`/`node-down` when Terraform runs them: the
# pipeline sets these in Terraform's environment, which its local-exec provisioners inherit.
CLUSTER_ID_ENV = "GPUFORGE_CLUSTER_ID"
DEPLOYMENT_ENV = "GPUFORGE_DEPLOYMENT"


@dataclass(frozen=True)
class ClusterOwner:
    """The deployment asking for a cluster's nodes: the random id kept in its folder, and that
    folder. The fleet records the owner of a cluster when it creates it and refuses others."""

    cluster_id: str
    deployment: str = ""


@dataclass(frozen=True)
class NodeSpec:
    """Everything needed to start one node; the provisioner builds one per Terraform resource.

    `owner` is the deployment the node is for; None for a node started by hand (not checked).
    """

    cluster: str
    name: str
    address: IPv4Address
    subnet: IPv4Network
    profile: str
    pool: str = "default"
    owner: ClusterOwner | None = None
    os: str = "debian-12"


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
