"""Ask before spending or destroying: `up` shows the plan (and, on a cloud, the cost) and asks.

Creating nodes on the local fleet goes ahead without a question; a plan on a cloud target, or
one that replaces or destroys anything, needs a yes: `--yes` gives it, a terminal asks for it,
and without either the command refuses (exit 2) before anything is applied.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import typer
from rich.console import Console
from rich.table import Table

from gpuforge.errors import InputError
from gpuforge.ops import PlanGate
from gpuforge.providers import provider_for
from gpuforge.provision import PlanSummary


def plan_table(plans: dict[str, PlanSummary]) -> Table:
    """The Terraform plan as one row per target and resource type."""
    table = Table(title="Terraform plan", title_justify="left")
    for column in ("target", "resource type", "create", "update", "replace", "destroy"):
        table.add_column(column)
    for target, plan in plans.items():
        for rtype, counts in sorted(plan.by_type.items()):
            table.add_row(
                target,
                rtype,
                str(counts.create),
                str(counts.update),
                str(counts.replace),
                str(counts.delete),
            )
    return table


def spends(target: str) -> bool:
    """Whether a target creates billed machines (a cloud), not the local fleet or own hosts."""
    provider = provider_for(target.split("/", 1)[0])
    return not provider.simulated and not provider.needs_hosts


def reasons_to_ask(plans: dict[str, PlanSummary]) -> list[str]:
    """Why this plan needs a yes: cloud resources to create or change, anything replaced or
    destroyed. Empty when it may go ahead (local nodes created, or nothing to change)."""
    reasons = []
    for target, plan in plans.items():
        totals = plan.totals
        if totals.replace or totals.delete:
            reasons.append(f"{target}: {totals.replace} replaced, {totals.delete} destroyed")
        elif plan.has_changes and spends(target):
            reasons.append(f"{target}: {totals.create} created, {totals.update} updated on a cloud")
    return reasons


def plan_gate(
    console: Console,
    *,
    yes: bool,
    dry_run: bool,
    quiet: bool,
    cost: Callable[[], str | None],
    paused: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> PlanGate:
    """The question `up` asks with the plan in hand; see the module docstring."""

    def gate(plans: dict[str, PlanSummary]) -> bool:
        reasons = reasons_to_ask(plans)
        if not reasons and not dry_run:
            return True
        with paused():
            if not quiet:
                console.print(plan_table(plans))
                line = cost()
                if line:
                    console.print(line, highlight=False)
            if dry_run:
                return False
            if yes:
                return True
            if not sys.stdin.isatty():
                raise InputError(
                    f"this plan needs confirmation ({'; '.join(reasons)}) "
                    "and no terminal is attached",
                    "pass --yes to apply it, or --dry-run to only see the plan",
                )
            for reason in reasons:
                console.print(f"[yellow]{reason}[/]", highlight=False)
            return typer.confirm("Apply this plan?", default=False)

    return gate
