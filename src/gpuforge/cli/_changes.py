"""A change set as tables: every change with its policy, then what happens to each node."""

from __future__ import annotations

from rich.table import Table

from gpuforge.cli._output import console
from gpuforge.ops import ChangeSet

_STYLE = {"in-place": "green", "rolling": "yellow", "replace": "red", "unsupported": "bold red"}


def _nodes(names: tuple[str, ...]) -> str:
    if len(names) <= 3:
        return ", ".join(names) or "-"
    return f"{', '.join(names[:3])} (+{len(names) - 3} more)"


def changes_table(changes: ChangeSet) -> Table:
    """One row per change: policy, reboot, source, pool, item, old -> new, nodes, why."""
    table = Table(title="Changes", title_justify="left")
    for column in ("policy", "reboot", "source", "pool", "item", "change", "nodes", "why"):
        table.add_column(column)
    for change in changes.changes:
        style = _STYLE[change.policy]
        why = change.reason + (f". To fix: {change.fix}" if change.fix else "")
        table.add_row(
            f"[{style}]{change.policy}[/]",
            "yes" if change.needs_reboot else "",
            change.source,
            change.pool or "-",
            change.item,
            f"{change.old or '-'} -> {change.new or '-'}",
            _nodes(change.nodes),
            why,
        )
    return table


def nodes_table(changes: ChangeSet) -> Table:
    """One row per node a change touches: its strongest policy, reboot, the roles that run."""
    table = Table(title="Nodes", title_justify="left")
    for column in ("node", "pool", "policy", "reboot", "roles", "changes"):
        table.add_column(column)
    for node in changes.nodes().values():
        table.add_row(
            node.node,
            node.pool or "-",
            f"[{_STYLE[node.policy]}]{node.policy}[/]",
            "yes" if node.needs_reboot else "",
            ", ".join(node.roles) or "-",
            str(node.changes),
        )
    return table


def show_changes(changes: ChangeSet) -> None:
    """Print the change set's tables and a one-line summary (zero changes said as such)."""
    if changes.empty:
        console.print("no changes: the cluster matches the spec and its lock")
        return
    console.print(changes_table(changes))
    if changes.nodes():
        console.print(nodes_table(changes))
    counts = ", ".join(f"{n} {policy}" for policy, n in changes.counts().items() if n)
    console.print(f"{len(changes.changes)} change(s): {counts}", highlight=False)
