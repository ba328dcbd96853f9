"""Converge by desired state: probe each node once, diff, and run only the roles that own drift.

`probe_drift` runs the collection's probe.yml (one node_state call per node) and diffs every
report with the node's pool state; asked to, the same run collects the nodes' validation facts
(gpu_validation's collection task), so a converged node needs no validate playbook after it.
`run_roles` runs site.yml limited to the nodes that need work, with each role's switch
(`gpuforge_enable_<role>`) set per node from a plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpuforge.configure import (
    ConfigureEvent,
    EngineSettings,
    EventKind,
    Journal,
    PlaybookResult,
    run_playbook,
)
from gpuforge.desired import ROLES, PoolState
from gpuforge.errors import InputError
from gpuforge.files import MIB, load_yaml, read_text
from gpuforge.ops._drift import Drift, diff_node, fix_roles

PROBE_TASK = "Read packages, services, files, GPU settings and MIG layout"
INVENTORY_MAX_BYTES = 16 * MIB


def inventory_host_vars(inventory: Path) -> dict[str, dict[str, Any]]:
    """Node name -> its host vars, from the inventory gpuforge wrote."""
    if not inventory.exists():
        raise InputError(
            f"no inventory at {inventory}",
            "run `gpuforge up` first, or pass the --deploy-dir it used",
        )
    fix = "re-run `gpuforge up` to write the inventory again"
    data = load_yaml(
        read_text(inventory, max_bytes=INVENTORY_MAX_BYTES, fix=fix), str(inventory), fix
    )
    try:
        hosts: Mapping[str, Any] = data["all"]["children"]["gpu_nodes"].get("hosts") or {}
        return {str(name): dict(vals or {}) for name, vals in hosts.items()}
    except (KeyError, TypeError, AttributeError, ValueError):
        raise InputError(f"{inventory} is not an inventory gpuforge wrote", fix) from None


def inventory_pools(inventory: Path) -> dict[str, str]:
    """Node name -> pool, from the inventory gpuforge wrote (each host's `gpuforge_pool`)."""
    hosts = inventory_host_vars(inventory)
    return {name: str(values.get("gpuforge_pool", "")) for name, values in hosts.items()}


@dataclass
class DriftReport:
    """What one probe found: drifted items per node, and nodes that could not be probed."""

    nodes: list[str]
    drifts: dict[str, list[Drift]] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)
    duration_s: float = 0.0
    # Nodes whose validation facts this probe collected (only when asked to collect).
    collected: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> list[str]:
        """Nodes with at least one drifted item, sorted."""
        return sorted(node for node, items in self.drifts.items() if items)

    def roles(self, order: tuple[str, ...] = ROLES) -> dict[str, list[str]]:
        """Drifted node -> the roles that correct it."""
        return {node: fix_roles(self.drifts[node], order) for node in self.drifted}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for `--json` and the journal."""
        return {
            "nodes": sorted(self.nodes),
            "drifted": self.drifted,
            "drifts": [d.to_dict() for node in self.drifted for d in self.drifts[node]],
            "roles": self.roles(),
            "unreachable": dict(sorted(self.unreachable.items())),
            "duration_s": round(self.duration_s, 3),
        }


def probe_drift(
    deploy_dir: Path,
    inventory: Path,
    states: Mapping[str, PoolState],
    nodes: Sequence[str],
    *,
    settings: EngineSettings | None = None,
    on_event: Callable[[ConfigureEvent], None] | None = None,
    journal: Journal | None = None,
    every_node: bool = False,
    collect_dir: Path | None = None,
) -> DriftReport:
    """Probe `nodes` (node -> its pool's state in `states`) once each and diff the reports.

    `every_node`: `nodes` are all of the inventory's, so no `--limit` (and no inventory
    listing to resolve one) is needed. `collect_dir`: also collect every node's validation
    facts into `collect_dir/<node>/` (the folders must not hold an earlier run's facts).
    """
    reports: dict[str, Mapping[str, Any]] = {}

    def collect(event: ConfigureEvent) -> None:
        if event.kind is EventKind.OK and event.task == PROBE_TASK:
            reports[event.host] = event.result
        if on_event is not None:
            on_event(event)

    outcome = run_playbook(
        deploy_dir,
        "probe",
        inventory,
        limit=None if every_node else ",".join(sorted(nodes)),
        settings=settings,
        extra_vars={
            "gpuforge_probe_items": {n: states[n].probe_args() for n in nodes},
            **(
                {"gpuforge_probe_collect": True, "gpu_validation_collect_dir": str(collect_dir)}
                if collect_dir is not None
                else {}
            ),
        },
        on_event=collect,
        journal=journal,
        step="probe",
        inventory_hosts=list(nodes),
    )
    report = DriftReport(list(nodes), duration_s=outcome.duration_s)
    if collect_dir is not None:
        report.collected = [h for h in outcome.ok_hosts if (collect_dir / h).is_dir()]
    for node in nodes:
        if node in reports:
            report.drifts[node] = diff_node(node, states[node], reports[node])
        else:
            failure = outcome.failures.get(node)
            report.unreachable[node] = failure.message if failure else "no probe result"
    return report


def switch_vars(plan: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Extra vars that switch each role on exactly for the nodes whose plan lists it."""
    switches: dict[str, Any] = {"gpuforge_converge_roles": {n: list(r) for n, r in plan.items()}}
    for role in ROLES:
        switches[f"gpuforge_enable_{role}"] = (
            "{{ '" + role + "' in gpuforge_converge_roles[inventory_hostname] | default([]) }}"
        )
    return switches


def run_roles(
    deploy_dir: Path,
    inventory: Path,
    plan: Mapping[str, Sequence[str]],
    *,
    settings: EngineSettings | None = None,
    extra_vars: Mapping[str, Any] | None = None,
    on_event: Callable[[ConfigureEvent], None] | None = None,
    journal: Journal | None = None,
) -> PlaybookResult:
    """site.yml on the nodes of `plan` only, each running only the roles its plan lists."""
    return run_playbook(
        deploy_dir,
        "site",
        inventory,
        limit=",".join(sorted(plan)),
        settings=settings,
        extra_vars={**switch_vars(plan), **(extra_vars or {})},
        on_event=on_event,
        journal=journal,
        inventory_hosts=sorted(plan),
    )
