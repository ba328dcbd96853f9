"""Update policies: what a change to a live cluster costs its nodes.

    in-place     Ansible applies it on running nodes; no drain (NCCL environment, exporters)
    rolling      drain, apply, maybe reboot, validate, undrain (driver/CUDA/NCCL/cuDNN, MIG,
                 kernel module options)
    replace      Terraform recreates the node (instance type, image, disk)
    unsupported  gpuforge cannot do it on a live cluster; `fix` says what to do instead

A `ChangeSet` holds the changes `classify_changes` found; a node's policy is the strongest of
its changes, in the order above. `policy_of_role` is the rule for an item a role puts on a node.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "POLICIES",
    "Change",
    "ChangeSet",
    "Kind",
    "NodeChanges",
    "Policy",
    "Rule",
    "Source",
    "policy_of_role",
    "strongest",
]

Policy = Literal["in-place", "rolling", "replace", "unsupported"]
POLICIES: tuple[Policy, ...] = ("in-place", "rolling", "replace", "unsupported")
Source = Literal["spec", "lock", "desired", "terraform", "drift"]
Kind = Literal["package", "unit", "file", "module", "runtime", "gpu", "mig"]


@dataclass(frozen=True)
class Change:
    """One change: where it comes from, the pool and nodes it touches, old and new value, its
    policy (and whether a reboot is needed), the role that applies it, why, and what to do."""

    source: Source
    item: str
    old: str | None
    new: str | None
    policy: Policy
    pool: str | None = None
    nodes: tuple[str, ...] = ()
    needs_reboot: bool = False
    role: str | None = None
    reason: str = ""
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for `plan --json`."""
        return {
            "source": self.source,
            "item": self.item,
            "old": self.old,
            "new": self.new,
            "policy": self.policy,
            "needs_reboot": self.needs_reboot,
            "pool": self.pool,
            "nodes": list(self.nodes),
            "role": self.role,
            "reason": self.reason,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class NodeChanges:
    """What happens to one node: the strongest policy of its changes, reboot, roles to run."""

    node: str
    pool: str | None
    policy: Policy
    needs_reboot: bool
    roles: tuple[str, ...]
    changes: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for `plan --json`."""
        return {
            "node": self.node,
            "pool": self.pool,
            "policy": self.policy,
            "needs_reboot": self.needs_reboot,
            "roles": list(self.roles),
            "changes": self.changes,
        }


def strongest(policies: Iterable[Policy]) -> Policy | None:
    """The most disruptive of `policies` (None when there are none)."""
    ranked = sorted(policies, key=POLICIES.index)
    return ranked[-1] if ranked else None


@dataclass
class ChangeSet:
    """Every change found, and the node -> pool map they were classified against."""

    changes: list[Change] = field(default_factory=list)
    node_pools: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Whether nothing would change."""
        return not self.changes

    def nodes(self) -> dict[str, NodeChanges]:
        """Node -> what happens to it, for every node any change names, sorted by node."""
        named = sorted({node for change in self.changes for node in change.nodes})
        result = {}
        for node in named:
            mine = [c for c in self.changes if node in c.nodes]
            policy = strongest(c.policy for c in mine)
            assert policy is not None
            result[node] = NodeChanges(
                node=node,
                pool=self.node_pools.get(node) or next((c.pool for c in mine if c.pool), None),
                policy=policy,
                needs_reboot=any(c.needs_reboot for c in mine),
                roles=tuple(sorted({c.role for c in mine if c.role})),
                changes=len(mine),
            )
        return result

    def pools(self) -> dict[str, Policy]:
        """Pool -> the strongest policy of its changes, sorted by pool."""
        found: dict[str, list[Policy]] = {}
        for change in self.changes:
            if change.pool is not None:
                found.setdefault(change.pool, []).append(change.policy)
        return {pool: strongest(found[pool]) or "in-place" for pool in sorted(found)}

    def counts(self) -> dict[str, int]:
        """Changes per policy, every policy named."""
        return {p: sum(1 for c in self.changes if c.policy == p) for p in POLICIES}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for `plan --json`."""
        return {
            "counts": self.counts(),
            "changes": [change.to_dict() for change in self.changes],
            "nodes": [node.to_dict() for node in self.nodes().values()],
            "pools": self.pools(),
        }


# ---- the rules -------------------------------------------------------------------------

Rule = tuple[Policy, bool, str]

# Per role (and kind of item where it differs): policy, reboot, why.
_DRAIN_LIBS = "jobs running on the node load the libraries being replaced: drain it first"
_ROLE_RULES: dict[tuple[str, str], Rule] = {
    ("nvidia_repo", "*"): ("in-place", False, "only the APT source changes"),
    ("stack_packages", "*"): ("rolling", False, _DRAIN_LIBS),
    ("nvidia_driver", "*"): (
        "rolling",
        True,
        "the kernel driver changes: the GPUs must be idle and the node rebooted to load it",
    ),
    ("nvidia_driver", "module"): ("in-place", False, "a module of the loaded driver is loaded"),
    ("gpu_access", "*"): (
        "rolling",
        True,
        "the driver's device-file options take effect when its modules load again",
    ),
    ("fabric", "*"): (
        "in-place",
        False,
        "fabric settings and the NCCL environment apply to new jobs",
    ),
    ("cuda_toolkit", "*"): ("rolling", False, _DRAIN_LIBS),
    ("nccl", "*"): ("rolling", False, _DRAIN_LIBS),
    ("nccl", "file"): ("in-place", False, "the NCCL environment applies to new jobs"),
    ("cudnn", "*"): ("rolling", False, _DRAIN_LIBS),
    ("gpu_tuning", "*"): ("in-place", False, "nvidia-smi applies GPU settings on a running node"),
    ("mig", "*"): (
        "rolling",
        False,
        "a new MIG layout destroys the GPU instances jobs run in: the GPUs must be idle",
    ),
    ("mps", "*"): ("rolling", False, "restarting the MPS daemon ends the jobs that use it"),
    ("container_toolkit", "*"): ("in-place", False, "running containers keep their runtime"),
    ("dcgm", "*"): ("in-place", False, "DCGM and its exporter restart; jobs keep running"),
    ("monitoring", "*"): ("in-place", False, "the exporters restart; jobs keep running"),
    ("hardening", "*"): ("in-place", False, "system settings apply on a running node"),
    ("spot_watcher", "*"): ("in-place", False, "the watcher restarts; jobs keep running"),
    ("gpu_validation", "*"): ("in-place", False, "validation only reads the node"),
    ("slurm", "*"): (
        "in-place",
        False,
        "slurmd and slurmctld restart without ending jobs (each job's slurmstepd runs on)",
    ),
}
_UNKNOWN_ROLE: Rule = ("rolling", False, "no policy is known for this role: drained to be safe")
_MODULE_OPTIONS = re.compile(r"^/etc/(modprobe\.d|modules-load\.d)/")
_MODULE_RULE: Rule = (
    "rolling",
    True,
    "kernel module options take effect when the module loads: drain and reboot",
)


def policy_of_role(role: str, kind: Kind, item: str = "") -> Rule:
    """(policy, needs_reboot, reason) of a change to an item `role` puts on a node."""
    if kind == "file" and _MODULE_OPTIONS.match(item):
        return _MODULE_RULE
    return _ROLE_RULES.get((role, kind)) or _ROLE_RULES.get((role, "*")) or _UNKNOWN_ROLE
