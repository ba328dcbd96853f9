"""`plan` on a live cluster: render, the Terraform plan of every root, the drift probe of every
node and the lock diff against the lock the cluster last ran, joined into one change set whose
changes carry their update policies. Nothing is applied; the run lock is held throughout."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpuforge.check import Lock, current_lock, make_context, read_lock_text, repo_for
from gpuforge.configure import ansible_cfg
from gpuforge.errors import GpuforgeError, ToolMissingError
from gpuforge.ops._changes import classify_changes
from gpuforge.ops._converge import DriftReport, inventory_pools, probe_drift
from gpuforge.ops._health import unhealthy_nodes
from gpuforge.ops._history import LockRecord, lock_digest, lock_history, recorded_lock
from gpuforge.ops._policy import ChangeSet
from gpuforge.provision import PlanSummary, discover_roots, find_binary
from gpuforge.render import render_deployment

if TYPE_CHECKING:
    from gpuforge.ops._up import Pipeline

__all__ = ["PlanResult", "plan_cluster"]


@dataclass
class PlanResult:
    """What `plan` found: Terraform's plans (or the rendered diff), the probe, the change set."""

    cluster: str
    deployment: Path
    binary: bool
    diff: str
    changes: ChangeSet
    plans: dict[str, PlanSummary] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    drift: DriftReport | None = None
    lock_before: LockRecord | None = None
    live: bool = False

    @property
    def exit_code(self) -> int:
        """0 planned, 1 a root could not be planned, 3 some nodes could not be probed."""
        if self.errors:
            return 1
        return 3 if self.drift is not None and self.drift.unreachable else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for `plan --json`."""
        return {
            "cluster": self.cluster,
            "deployment": str(self.deployment),
            "binary": self.binary,
            "live": self.live,
            "plans": {target: plan.to_dict() for target, plan in self.plans.items()},
            "errors": self.errors,
            "diff": self.diff,
            "lock_before": self.lock_before.to_dict() if self.lock_before else None,
            "drift": self.drift.to_dict() if self.drift else None,
            "changes": self.changes.to_dict(),
        }


def _have_binary() -> bool:
    try:
        find_binary()
    except ToolMissingError:
        return False
    return True


def _lock_before(pipeline: Pipeline, text: str) -> tuple[LockRecord | None, Lock | None]:
    """The newest lock the cluster ran, and it parsed when it is not the spec's lock now."""
    records = lock_history(pipeline.deployment)
    if not records:
        return None, None
    newest = records[-1]
    if newest.digest == lock_digest(text):
        return newest, None
    return newest, recorded_lock(pipeline.deployment, newest)[1]


def plan_cluster(pipeline: Pipeline, *, probe: bool = True) -> PlanResult:
    """Render, plan every Terraform root and (on a live cluster, with `probe`) probe every node;
    classify everything that would change. Solves and writes the lock when it is stale."""
    pipeline._read_inputs()
    deployment = pipeline.deployment
    with pipeline._exclusive("plan"):
        ctx = make_context(pipeline.doc, pipeline.as_of, repo=repo_for(pipeline.doc))
        lock, _ = current_lock(ctx, pipeline.spec_path)
        pipeline.lock = lock
        unhealthy = unhealthy_nodes(deployment, pipeline.journal)
        rendered = render_deployment(pipeline.spec, lock, deployment.root, unhealthy=unhealthy)
        deployment.write(deployment.ansible_cfg, ansible_cfg(pipeline._settings(), deployment.root))
        binary = _have_binary()
        plans: dict[str, PlanSummary] = {}
        errors: dict[str, str] = {}
        for root in discover_roots(deployment.root) if binary else []:
            engine = pipeline._engine(root.path)
            name = root.target or root.path.name
            try:
                engine.init()
                plans[name] = engine.show_plan(engine.plan().plan_file.name)
            except GpuforgeError as error:
                errors[name] = error.message
        live = deployment.inventory.exists()
        nodes = inventory_pools(deployment.inventory) if live else {}
        drift = None
        if live and probe:
            states = pipeline.node_states()
            drift = probe_drift(
                deployment.root,
                deployment.inventory,
                states,
                list(states),
                settings=pipeline._settings(),
                on_event=pipeline.reporter.ansible_event,
                every_node=True,
            )
        text = read_lock_text(pipeline.spec_path) or lock.dump()
        before, old_lock = _lock_before(pipeline, text)
    changes = classify_changes(
        pipeline.spec, lock, old_lock=old_lock, nodes=nodes, plans=plans, drift=drift
    )
    return PlanResult(
        cluster=pipeline.spec.name,
        deployment=deployment.root,
        binary=binary,
        diff=rendered.diff,
        changes=changes,
        plans=plans,
        errors=errors,
        drift=drift,
        lock_before=before,
        live=live,
    )
