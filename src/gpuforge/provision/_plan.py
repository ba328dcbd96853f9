"""A saved plan (`show -json tfplan`) summarised: what changes, per resource type, and how."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gpuforge.errors import ProvisionError

__all__ = ["Action", "ActionCounts", "PlanSummary", "ResourceChange", "parse_plan_json"]


class Action(StrEnum):
    """What a plan does to one resource; a replace is a delete plus a create in either order."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    READ = "read"
    NO_OP = "no-op"


_ACTIONS: dict[tuple[str, ...], Action] = {
    ("create",): Action.CREATE,
    ("update",): Action.UPDATE,
    ("delete", "create"): Action.REPLACE,
    ("create", "delete"): Action.REPLACE,
    ("delete",): Action.DELETE,
    ("read",): Action.READ,
    ("no-op",): Action.NO_OP,
}


@dataclass(frozen=True)
class ResourceChange:
    """One resource in the plan: its address, type, action and Terraform's reason, if any."""

    address: str
    type: str
    action: Action
    reason: str = ""

    def to_dict(self) -> dict[str, str]:
        """JSON-ready view for `--json` output."""
        return {
            "address": self.address,
            "type": self.type,
            "action": self.action.value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ActionCounts:
    """How many resources get each action; used per resource type and for the whole plan."""

    create: int = 0
    update: int = 0
    replace: int = 0
    delete: int = 0
    read: int = 0
    no_op: int = 0

    @property
    def changes(self) -> int:
        """Resources that change (reads and no-ops excluded)."""
        return self.create + self.update + self.replace + self.delete

    def to_dict(self) -> dict[str, int]:
        """JSON-ready view for `--json` output."""
        return {
            "create": self.create,
            "update": self.update,
            "replace": self.replace,
            "delete": self.delete,
            "read": self.read,
            "no-op": self.no_op,
        }


def _count(changes: list[ResourceChange]) -> ActionCounts:
    tally = {action: 0 for action in Action}
    for change in changes:
        tally[change.action] += 1
    return ActionCounts(
        create=tally[Action.CREATE],
        update=tally[Action.UPDATE],
        replace=tally[Action.REPLACE],
        delete=tally[Action.DELETE],
        read=tally[Action.READ],
        no_op=tally[Action.NO_OP],
    )


@dataclass(frozen=True)
class PlanSummary:
    """Every resource change of a plan, sorted by address, plus the output changes."""

    changes: tuple[ResourceChange, ...]
    output_actions: Mapping[str, Action] = field(default_factory=dict)
    terraform_version: str = ""

    @property
    def by_type(self) -> dict[str, ActionCounts]:
        """Counts per resource type, sorted by type, for the plan table."""
        types = sorted({change.type for change in self.changes})
        return {t: _count([c for c in self.changes if c.type == t]) for t in types}

    @property
    def totals(self) -> ActionCounts:
        """Counts over the whole plan."""
        return _count(list(self.changes))

    @property
    def has_changes(self) -> bool:
        """Whether applying this plan would change any resource or output."""
        return self.totals.changes > 0 or any(
            action is not Action.NO_OP for action in self.output_actions.values()
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for `--json` output."""
        return {
            "terraform_version": self.terraform_version,
            "totals": self.totals.to_dict(),
            "by_type": {t: counts.to_dict() for t, counts in self.by_type.items()},
            "changes": [change.to_dict() for change in self.changes],
            "outputs": {name: action.value for name, action in sorted(self.output_actions.items())},
        }


def _action(actions: Any, where: str) -> Action:
    key = tuple(actions) if isinstance(actions, list) else ()
    if key not in _ACTIONS:
        raise ProvisionError(
            f"unknown plan action {actions!r} for {where}",
            "use OpenTofu or a Terraform release this gpuforge version knows (>= 0.15.3)",
        )
    return _ACTIONS[key]


def parse_plan_json(plan: Mapping[str, Any]) -> PlanSummary:
    """Summarise the document `show -json PLANFILE` prints (plan format 0.x and 1.x)."""
    changes = []
    for entry in plan.get("resource_changes") or []:
        address = str(entry.get("address", ""))
        changes.append(
            ResourceChange(
                address=address,
                type=str(entry.get("type", "")),
                action=_action((entry.get("change") or {}).get("actions"), address),
                reason=str(entry.get("action_reason", "")),
            )
        )
    outputs = {
        name: _action((body or {}).get("actions"), f"output {name}")
        for name, body in (plan.get("output_changes") or {}).items()
    }
    return PlanSummary(
        changes=tuple(sorted(changes, key=lambda c: c.address)),
        output_actions=outputs,
        terraform_version=str(plan.get("terraform_version", "")),
    )
