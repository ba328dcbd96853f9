"""`scale`: change only the nodes a pool's new count adds or removes.

The render decides which nodes come and go where the target keys nodes by name (the local fleet):
a pool that shrinks loses the nodes the last readiness report found not ready first, then its
highest indexes (`unhealthy_nodes`, render's members); one that grows takes the lowest free
indexes; no other node moves. The Terraform plan then says what is created and destroyed. A
plan that would replace or change an existing node is refused: that is `up`'s job, after `plan`
has shown why. Nodes to remove are drained first (`drainer_for`), then Terraform applies; new
nodes are configured and validated on their own, handed to the cluster's scheduler
(`register_scheduler_join`) and undrained. The scheduler's join runs too when nodes only left,
so that it forgets them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpuforge.check import read_lock_text
from gpuforge.configure import PlaybookResult, run_playbook
from gpuforge.errors import GpuforgeError, InputError
from gpuforge.ops._converge import inventory_pools, run_roles
from gpuforge.ops._drain import drainer_for
from gpuforge.ops._expect import pool_expectation
from gpuforge.ops._history import record_lock
from gpuforge.provision import Action, PlanSummary, discover_roots
from gpuforge.validate import ReadinessReport, validate_collected

if TYPE_CHECKING:
    from gpuforge.ops._up import Pipeline, UpResult

__all__ = [
    "ScaleRefused",
    "ScaleResult",
    "SchedulerJoin",
    "SchedulerJoinError",
    "join_scheduler",
    "node_actions",
    "register_scheduler_join",
    "scale_cluster",
]

_NODE_KEY = re.compile(r'\["([^"]+)"\]$')

# Roles whose files list the cluster's nodes, whatever its scheduler: the firewall admits every
# node of the inventory (hardening).
MEMBERSHIP_ROLES = ("hardening",)


@dataclass(frozen=True)
class SchedulerJoin:
    """How a scheduler takes in a changed set of nodes: `roles` (whose files list the nodes) run
    on every node, then `settle` waits until the scheduler uses every node it ran on."""

    roles: tuple[str, ...]
    settle: Callable[[Pipeline, Sequence[str]], None]


_JOINS: dict[str, SchedulerJoin] = {}


class SchedulerJoinError(GpuforgeError):
    """The cluster's nodes could not be brought to its new set of nodes."""


def register_scheduler_join(kind: str, join: SchedulerJoin) -> None:
    """Make `scale` and `up` hand a membership change of clusters whose scheduler is `kind` to
    `join`."""
    _JOINS[kind] = join


def join_scheduler(pipeline: Pipeline, added: Sequence[str]) -> None:
    """The cluster's nodes changed (`added` joined and are ready, nodes no longer in the
    inventory left): run the roles whose files list the nodes on every node that has them, in
    one run, then let the scheduler (if one registered a join) settle."""
    kind = str(getattr(getattr(pipeline.spec, "scheduler", None), "kind", "none"))
    join = _JOINS.get(kind)
    wanted = (*MEMBERSHIP_ROLES, *(join.roles if join else ()))
    plan = {
        node: [role for role in state.roles if role in wanted]
        for node, state in pipeline.node_states().items()
    }
    plan = {node: roles for node, roles in plan.items() if roles}
    if plan:
        pipeline.reporter.step_started("membership", f"{len(plan)} node(s)")
        outcome = run_roles(
            pipeline.deployment.root,
            pipeline.deployment.inventory,
            plan,
            settings=pipeline._settings(),
            on_event=pipeline.reporter.ansible_event,
            journal=pipeline.journal,
        )
        if outcome.failed_hosts:
            raise SchedulerJoinError(
                f"{', '.join(sorted(wanted))} failed on {', '.join(outcome.failed_hosts)}, so "
                "those nodes may not know the cluster's nodes as they are now",
                "fix those nodes (see the output above), then run `gpuforge up`",
            )
        pipeline.journal.record("membership", "done", plan=plan, added=list(added))
        pipeline.reporter.step_finished("membership", "done", f"{len(plan)} node(s)")
    if join is not None:
        # Every node whose scheduler daemons the run may have restarted, not only the new ones:
        # the cluster is back in service when scale returns.
        restarted = [node for node, roles in plan.items() if set(roles) & set(join.roles)]
        join.settle(pipeline, restarted)


def node_actions(plans: Mapping[str, PlanSummary]) -> dict[str, Action]:
    """Node name -> what the plans do to it, for resources keyed by a node's name."""
    found: dict[str, Action] = {}
    for plan in plans.values():
        for change in plan.changes:
            key = _NODE_KEY.search(change.address)
            if key and change.action not in (Action.NO_OP, Action.READ):
                found[key.group(1)] = change.action
    return dict(sorted(found.items()))


class ScaleRefused(InputError):
    """The plan would do more than add or remove nodes: nothing was drained or applied."""


@dataclass
class ScaleResult:
    """What `scale` did: the plans, the nodes added and removed, configure and validation."""

    cluster: str
    deployment: Path
    plans: dict[str, PlanSummary] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    configure: PlaybookResult | None = None
    report: ReadinessReport | None = None
    stopped_at_plan: bool = False
    notices: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 done (new nodes ready); 1 no new node ready; 3 some new nodes failed."""
        failed = set(self.configure.failed_hosts) if self.configure else set()
        if self.report is not None:
            failed |= {n.host for n in self.report.nodes if not n.ready}
        if not failed:
            return 0
        return 3 if set(self.added) - failed else 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for `scale --json`."""
        return {
            "cluster": self.cluster,
            "deployment": str(self.deployment),
            "plans": {target: plan.to_dict() for target, plan in self.plans.items()},
            "added": self.added,
            "removed": self.removed,
            "configure": self.configure.to_dict() if self.configure else None,
            "report": self.report.to_dict() if self.report else None,
            "stopped_at_plan": self.stopped_at_plan,
            "notices": self.notices,
        }


def _refuse_moves(actions: Mapping[str, Action], existing: set[str]) -> None:
    moved = sorted(n for n, a in actions.items() if a in (Action.UPDATE, Action.REPLACE))
    strays = sorted(n for n, a in actions.items() if a is Action.CREATE and n in existing)
    if moved or strays:
        raise ScaleRefused(
            f"the plan would replace or change existing nodes ({', '.join(moved or strays)}); "
            "scale only adds and removes nodes",
            "run `gpuforge plan` to see why, then `gpuforge up` to apply that change",
        )


def drain_removed(pipeline: Pipeline, nodes: Sequence[str], *, force: bool) -> None:
    """Take nodes Terraform is about to destroy out of service first (journaled)."""
    if not nodes:
        return
    spec = pipeline.spec
    pipeline.reporter.step_started("drain", ", ".join(nodes))
    drainer_for(spec, pipeline.deployment).drain(
        list(nodes),
        reason="gpuforge: node removed from its pool",
        timeout_s=spec.rollout.drain_timeout_s,
        force=force,
    )
    pipeline.journal.record("scale:drain", "done", nodes=list(nodes))
    pipeline.reporter.step_finished("drain", "done", f"{len(nodes)} node(s) drained")


def _plan(pipeline: Pipeline, result: ScaleResult) -> list[tuple[Any, Any]]:
    planned = []
    for root in discover_roots(pipeline.deployment.root):
        engine = pipeline._engine(root.path)
        engine.init()
        plan = engine.plan()
        result.plans[root.target or root.path.name] = engine.show_plan(plan.plan_file.name)
        planned.append((engine, plan))
    return planned


def _configure_new(pipeline: Pipeline, result: ScaleResult) -> None:
    """Every role on the new nodes only, then validate them only; record the lock they run."""
    states = pipeline.node_states(result.added)
    roles = {node: _roles(states[node].roles) for node in states}
    collect = pipeline._fresh_collect_dir(sorted(roles))
    started = datetime.now(UTC)
    result.configure = run_roles(
        pipeline.deployment.root,
        pipeline.deployment.inventory,
        roles,
        settings=pipeline._settings(),
        extra_vars={"gpu_validation_collect_dir": str(collect)},
        on_event=pipeline.reporter.ansible_event,
        journal=pipeline.journal,
    )
    pending = [n for n in roles if not (collect / n).is_dir()]
    if pending:
        run_playbook(
            pipeline.deployment.root,
            "validate",
            pipeline.deployment.inventory,
            limit=",".join(pending),
            settings=pipeline._settings(),
            extra_vars={"gpu_validation_collect_dir": str(collect)},
            on_event=pipeline.reporter.ansible_event,
            journal=pipeline.journal,
        )
    lock = pipeline._ensure_lock()
    result.report = validate_collected(
        collect,
        {node: pool_expectation(pipeline.spec, lock, states[node].pool) for node in states},
        cluster=pipeline.spec.name,
        started_at=started,
        finished_at=datetime.now(UTC),
    )
    text = read_lock_text(pipeline.spec_path)
    ready = [n.host for n in result.report.nodes if n.ready]
    if text is not None:
        record_lock(pipeline.deployment, text, ready)


def _roles(roles: Sequence[str]) -> list[str]:
    body = [r for r in roles if r not in ("stack_packages", "gpu_validation")]
    return ["stack_packages", *body, "gpu_validation"]


def _provision(pipeline: Pipeline, result: ScaleResult, steps: UpResult, force: bool) -> bool:
    """check, lock, render, plan, refuse moves, ask, drain, apply, inventory; False: not asked
    yes (nothing applied)."""
    for name in ("check", "lock", "render"):
        action = getattr(pipeline, f"step_{name}")
        pipeline._run_step(name, functools.partial(action, steps), set(), steps)
    existing = set(inventory_pools(pipeline.deployment.inventory))
    planned = _plan(pipeline, result)
    actions = node_actions(result.plans)
    _refuse_moves(actions, existing)
    result.added = [n for n, a in actions.items() if a is Action.CREATE]
    result.removed = [n for n, a in actions.items() if a is Action.DELETE]
    pipeline.journal.record("scale:plan", "done", added=result.added, removed=result.removed)
    if pipeline.plan_gate is not None and not pipeline.plan_gate(result.plans):
        return False
    drain_removed(pipeline, result.removed, force=force)
    pipeline.reporter.step_started("provision")
    for engine, plan in planned:
        if plan.has_changes:
            engine.apply(plan.plan_file.name)
    summary = f"+{len(result.added)} -{len(result.removed)} node(s)"
    pipeline.reporter.step_finished("provision", "done", summary)
    pipeline.journal.record("scale:apply", "done", added=result.added, removed=result.removed)
    inventory = functools.partial(pipeline.step_inventory, steps)
    pipeline._run_step("inventory", inventory, set(), steps)
    return True


def scale_cluster(pipeline: Pipeline, steps: UpResult, *, force: bool) -> ScaleResult:
    """Plan, ask (the pipeline's plan gate), drain the nodes to remove, apply, then configure,
    validate, join and undrain the new nodes. A plan that moves existing nodes: ScaleRefused."""
    pipeline._read_inputs()
    deployment = pipeline.deployment
    result = ScaleResult(pipeline.spec.name, deployment.root)
    if not deployment.inventory.exists():
        raise InputError(
            f"no inventory at {deployment.inventory}: this cluster was never brought up",
            "run `gpuforge up` first; scale changes the size of a running cluster",
        )
    with pipeline._exclusive("scale"):
        pipeline.journal.start_run()
        if not _provision(pipeline, result, steps, force):
            result.stopped_at_plan = True
            result.notices = pipeline.notices
            return result
        ready: list[str] = []
        if result.added:
            pipeline.reporter.step_started("configure", ", ".join(result.added))
            _configure_new(pipeline, result)
            ready = [n.host for n in result.report.nodes if n.ready] if result.report else []
            pipeline.reporter.step_finished("configure", "done", f"{len(ready)} node(s) ready")
        if result.added or result.removed:
            join_scheduler(pipeline, ready)
            drainer_for(pipeline.spec, deployment).undrain(ready)
        # The nodes `up` may probe rather than configure afresh: the old ones left, the new ready.
        converged = (pipeline.known_nodes - set(result.removed)) | set(ready)
        pipeline.journal.record(
            "up:configure", "done", digest=pipeline.digest, converged=sorted(converged)
        )
    result.notices = pipeline.notices
    return result
