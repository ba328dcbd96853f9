"""`upgrade` and `rollback`: a lock rolled through the cluster in gated waves.

`upgrade` brings the nodes to the spec's lock; `rollback` brings them back to the lock they ran
before it (kept in the lock history). Both run the same way: check, lock and render as `up`
does; probe every node once against the target's desired state, so only the nodes whose state
differs take part and each runs only the roles that own the difference; cut those nodes into
waves (canary first, then batches, never more than `rollout.max_unavailable` out of service).

Per wave: drain (the cluster's drainer), apply the roles (a node reboots when its new driver
needs it and `rollout.reboot` allows it), probe again and correct what a reboot reset, then the
gate: validation's readiness rules, NCCL bus bandwidth included. A passing wave is recorded in
the lock history and undrained. A failing one (with `rollout.auto_rollback`) is taken back to
the lock each node ran before, validated again and undrained when ready; the rollout stops there
and later waves are not touched. `rollout.max_failures` nodes may fail their gate first: while
the failures stay within it, only the failed nodes go back, the others stay on the target
(wave status `partial`), and the rollout goes on. Every step goes to the journal (drain and
undrain with their times); `--resume` keeps the interrupted run's waves and skips the nodes
already there. Ctrl-C is deferred to the end of the wave under way.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gpuforge.check import Lock, lock_path, read_lock_text
from gpuforge.configure import PlaybookResult, run_playbook
from gpuforge.desired import PoolState, cluster_vars, desired_state, pool_vars
from gpuforge.errors import InputError
from gpuforge.ops._converge import DriftReport, inventory_pools, probe_drift, run_roles
from gpuforge.ops._deploy import Deployment
from gpuforge.ops._drain import Drainer, DrainError, drainer_for
from gpuforge.ops._expect import pool_expectation
from gpuforge.ops._history import (
    lock_digest,
    lock_history,
    node_locks,
    previous_lock,
    record_lock,
    recorded_lock,
)
from gpuforge.ops._interrupt import DeferredInterrupt
from gpuforge.ops._up import Pipeline, UpResult
from gpuforge.ops._waves import Wave, plan_waves
from gpuforge.spec import ClusterSpec
from gpuforge.validate import ReadinessReport, validate_collected

PHASES = ("drain", "apply", "validate", "undrain", "rollback")


@dataclass
class FailureBudget:
    """How many more nodes may fail their gate before a rollout stops (`rollout.max_failures`)."""

    left: int

    def settle(self, nodes: Sequence[str], failed: Sequence[str]) -> tuple[list[str], bool]:
        """(the wave's nodes that go back to their earlier lock, whether the rollout stops) for a
        wave whose `failed` nodes failed: within the budget only those, which spends it; beyond
        it the whole wave, and the rollout stops."""
        gone = [n for n in nodes if n in failed]
        if len(gone) > self.left:
            self.left = 0
            return list(nodes), True
        self.left -= len(gone)
        return gone, False


@dataclass(frozen=True)
class Target:
    """A lock to bring nodes to, with the spec it was solved for.

    `override`: the deployment's group_vars hold another lock, so the roles get this one's
    variables as extra vars (a rollback); False when the rendered files are this lock's.
    """

    ident: str
    spec: ClusterSpec
    lock: Lock
    lock_text: str
    override: bool

    @functools.cached_property
    def states(self) -> dict[str, PoolState]:
        """Pool -> its desired state under this lock (worked out once)."""
        return desired_state(self.spec, self.lock)

    def extra_vars(self, pool: str) -> dict[str, Any]:
        """The variables a pool's roles must get on the command line (none without override);
        the role switches are left to the converge plan."""
        if not self.override:
            return {}
        values = {**cluster_vars(self.spec), **pool_vars(self.spec, self.lock, pool)}
        return {k: v for k, v in values.items() if not k.startswith("gpuforge_enable_")}


@dataclass
class WaveResult:
    """What one wave did: its nodes and roles, each phase's seconds, and how its gate ended."""

    wave: Wave
    nodes: list[str]
    roles: dict[str, list[str]] = field(default_factory=dict)
    status: str = "pending"
    seconds: dict[str, float] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    rolled_back_to: dict[str, str] = field(default_factory=dict)
    rollback_failed: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for `--json` and the journal."""
        return {
            **self.wave.to_dict(),
            "changed_nodes": self.nodes,
            "roles": self.roles,
            "status": self.status,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "failed": self.failed,
            "rolled_back_to": self.rolled_back_to,
            "rollback_failed": self.rollback_failed,
            "error": self.error,
        }


@dataclass
class RolloutResult:
    """Everything an upgrade or rollback did, for the CLI's table and `--json`."""

    command: str
    cluster: str
    deployment: Path
    target: str
    waves: list[WaveResult] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)
    node_locks: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    notices: list[str] = field(default_factory=list)
    exit_code: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for `--json`."""
        return {
            "cluster": self.cluster,
            "deployment": str(self.deployment),
            "target_lock": self.target,
            "waves": [w.to_dict() for w in self.waves],
            "unchanged": self.unchanged,
            "unreachable": self.unreachable,
            "node_locks": dict(sorted(self.node_locks.items())),
            "interrupted": self.interrupted,
            "notices": self.notices,
        }


class Rollout(Pipeline):
    """A cluster's pipeline with the rolling commands: `upgrade` and `rollback`."""

    def upgrade(self, *, resume: bool = False, force: bool = False) -> RolloutResult:
        """Bring the nodes to the spec's lock in gated waves; a failed wave is rolled back."""
        self._read_inputs()
        with self._exclusive("upgrade"):
            result = UpResult(self.spec.name, self.deployment.root)
            if not resume:
                self.journal.start_run(command="upgrade")
            steps = {"check": self.step_check, "lock": self.step_lock, "render": self.step_render}
            for name, step in steps.items():
                self._run_step(name, functools.partial(step, result), set(), result)
            text = read_lock_text(self.spec_path) or ""
            target = Target(lock_digest(text), self.spec, self._ensure_lock(), text, False)
            outcome = self._roll("upgrade", target, resume=resume, force=force, undo=True)
        outcome.notices = self.notices
        return outcome

    def rollback(self, *, resume: bool = False, force: bool = False) -> RolloutResult:
        """Bring the nodes back to the lock the cluster ran before the spec's, in gated waves."""
        self._read_inputs()
        with self._exclusive("rollback"):
            text = read_lock_text(self.spec_path) or ""
            previous = previous_lock(self.deployment, lock_digest(text))
            if previous is None:
                raise InputError(
                    f"no lock before {lock_path(self.spec_path).name} is recorded for "
                    f"{self.spec.name}",
                    "a rollback needs a lock that reached the cluster earlier (`up` or "
                    "`upgrade` record them in the deployment's locks/ folder)",
                )
            target = _recorded(self.deployment, self.spec, previous.digest)
            if not resume:
                self.journal.start_run(command="rollback")
            outcome = self._roll("rollback", target, resume=resume, force=force, undo=False)
        outcome.notices = self.notices
        return outcome

    # ---- the waves ------------------------------------------------------------------------

    def _roll(
        self, command: str, target: Target, *, resume: bool, force: bool, undo: bool
    ) -> RolloutResult:
        result = RolloutResult(command, self.spec.name, self.deployment.root, target.ident)
        pools = inventory_pools(self.deployment.inventory)
        nodes = sorted(n for n, p in pools.items() if p in target.lock.pools)
        self.reporter.step_started(
            "probe", f"{len(nodes)} node(s) against lock {target.ident[7:19]}"
        )
        report = self._probe(target, nodes, pools, every_node=len(nodes) == len(pools))
        self.journal.record(f"{command}:probe", "done", target=target.ident, **report.to_dict())
        self.reporter.step_finished("probe", "done", f"{len(report.drifted)} node(s) to change")
        result.unreachable = dict(report.unreachable)
        if report.unreachable:
            result.exit_code = 3
            result.node_locks = _node_digests(self.deployment)
            return result
        roles = report.roles()
        result.unchanged = [n for n in nodes if n not in roles]
        on_target = _node_digests(self.deployment)
        settled = [n for n in result.unchanged if on_target.get(n) != target.ident]
        if settled:
            record_lock(self.deployment, target.lock_text, settled)
        waves = self._waves(command, target, [n for n in nodes if n in roles], len(pools), resume)
        drainer = drainer_for(self.spec, self.deployment)
        budget = FailureBudget(self.spec.rollout.max_failures)
        with DeferredInterrupt(self._interrupt_notice) as interrupt:
            for wave in waves:
                todo = [n for n in wave.nodes if n in roles]
                if not todo:
                    continue
                if interrupt.requested:
                    result.interrupted = True
                    self.journal.record(f"{command}:wave", "interrupted", wave=wave.to_dict())
                    break
                outcome = WaveResult(wave, todo, {n: roles[n] for n in todo})
                result.waves.append(outcome)
                self._wave(command, target, outcome, pools, drainer, force, undo, budget)
                if outcome.status not in ("done", "partial"):
                    break
        result.node_locks = _node_digests(self.deployment)
        stopped = any(w.status not in ("done", "partial") for w in result.waves)
        partial = any(w.status == "partial" for w in result.waves)
        result.exit_code = 1 if stopped else 3 if result.interrupted or partial else 0
        return result

    def _interrupt_notice(self) -> None:
        self._notice("Ctrl-C: stopping after the wave under way (its nodes are being changed)")

    def _waves(
        self, command: str, target: Target, nodes: list[str], cluster_size: int, resume: bool
    ) -> list[Wave]:
        """The interrupted run's waves when resuming the same target, else a new plan."""
        if resume:
            for entry in reversed(self.journal.current_run()):
                if entry.step == f"{command}:plan" and entry.data.get("target") == target.ident:
                    return [
                        Wave(int(w["index"]), str(w["name"]), tuple(w["nodes"]))
                        for w in entry.data.get("waves", [])
                    ]
        rollout = self.spec.rollout
        waves = plan_waves(
            nodes,
            canary=rollout.canary,
            batch=rollout.batch,
            max_unavailable=rollout.max_unavailable,
            cluster_size=cluster_size,
        )
        self.journal.record(
            f"{command}:plan",
            "done",
            target=target.ident,
            waves=[w.to_dict() for w in waves],
        )
        return waves

    def _wave(
        self,
        command: str,
        target: Target,
        outcome: WaveResult,
        pools: Mapping[str, str],
        drainer: Drainer,
        force: bool,
        undo: bool,
        budget: FailureBudget,
    ) -> None:
        """Drain, apply, gate, then undrain or roll back one wave (or, within the failure
        budget, its failed nodes only); `outcome` says how it went."""
        wave, nodes = outcome.wave, outcome.nodes
        step = f"{command}:wave"
        before = _node_digests(self.deployment)
        self.journal.record(step, "started", wave=wave.to_dict(), nodes=nodes)
        label = f"{wave.name}: {', '.join(nodes)}"
        with self._phase(outcome, "drain", label):
            try:
                drainer.drain(
                    nodes,
                    reason=f"gpuforge {command} to lock {target.ident[7:19]}",
                    timeout_s=self.spec.rollout.drain_timeout_s,
                    force=force,
                )
            except DrainError as error:
                outcome.status, outcome.error = "failed", error.message
        if outcome.status == "failed":
            drainer.undrain(nodes)
            self.journal.record(step, "failed", wave=outcome.to_dict())
            return
        self.journal.record(f"{command}:drained", "done", wave=wave.index, nodes=nodes)
        with self._phase(outcome, "apply", label):
            outcome.failed.update(self._apply(target, outcome.roles, pools))
        with self._phase(outcome, "validate", label):
            report = self._gate(target, [n for n in nodes if n not in outcome.failed], pools)
            outcome.failed.update(_not_ready(report))
        if not outcome.failed:
            record_lock(self.deployment, target.lock_text, nodes)
            self._undrain(command, drainer, outcome, nodes)
            outcome.status = "done"
            self.journal.record(step, "done", wave=outcome.to_dict())
            return
        back, stop = budget.settle(nodes, list(outcome.failed))
        kept = [n for n in nodes if n not in back]
        if kept:
            record_lock(self.deployment, target.lock_text, kept)
        outcome.status = "failed" if stop else "partial"
        ready: list[str] = list(kept)
        if undo and self.spec.rollout.auto_rollback:
            with self._phase(outcome, "rollback", label):
                ready += self._undo(outcome, back, before, pools)
            outcome.status = "rolled back" if stop else "partial"
        self._undrain(command, drainer, outcome, ready)
        self.journal.record(step, "failed" if stop else "done", wave=outcome.to_dict())

    def _undrain(
        self, command: str, drainer: Drainer, outcome: WaveResult, nodes: list[str]
    ) -> None:
        if not nodes:
            return
        with self._phase(outcome, "undrain", ", ".join(nodes)):
            drainer.undrain(nodes)
        self.journal.record(
            f"{command}:undrained", "done", wave=outcome.wave.index, nodes=sorted(nodes)
        )

    @contextmanager
    def _phase(self, outcome: WaveResult, phase: str, detail: str) -> Iterator[None]:
        """Time one phase of a wave into `outcome.seconds` and show it."""
        name = f"{outcome.wave.name} {phase}"
        self.reporter.step_started(name, detail)
        started = time.monotonic()
        try:
            yield
        finally:
            outcome.seconds[phase] = outcome.seconds.get(phase, 0.0) + time.monotonic() - started
            self.reporter.step_finished(name, "done", f"{outcome.seconds[phase]:.1f} s")

    def _probe(
        self, target: Target, nodes: Sequence[str], pools: Mapping[str, str], every_node: bool
    ) -> DriftReport:
        states = target.states
        return probe_drift(
            self.deployment.root,
            self.deployment.inventory,
            {n: states[pools[n]] for n in nodes},
            list(nodes),
            settings=self._settings(),
            on_event=self.reporter.ansible_event,
            journal=self.journal,
            every_node=every_node,
        )

    def _apply(
        self, target: Target, plan: Mapping[str, Sequence[str]], pools: Mapping[str, str]
    ) -> dict[str, str]:
        """Run each node's roles (pool by pool when the lock's variables go on the command line),
        then probe and run once more what a reboot reset; node -> why it failed."""
        failed: dict[str, str] = {}
        pending = {n: list(r) for n, r in plan.items()}
        for attempt in range(2):
            for outcome in self._run_by_pool(target, pending, pools):
                failed.update({h: f"{f.task}: {f.message}" for h, f in outcome.failures.items()})
                failed.update({h: "failed" for h in outcome.failed_hosts if h not in failed})
            left = [n for n in pending if n not in failed]
            if not left or attempt:
                break
            report = self._probe(target, left, pools, every_node=False)
            failed.update(report.unreachable)
            pending = report.roles()
            if not pending:
                break
        return failed

    def _run_by_pool(
        self, target: Target, plan: Mapping[str, Sequence[str]], pools: Mapping[str, str]
    ) -> Iterator[PlaybookResult]:
        groups: dict[str, dict[str, list[str]]] = {}
        for node, roles in plan.items():
            pool = pools[node] if target.override else ""
            groups.setdefault(pool, {})[node] = [*roles]
        reboot = {"nvidia_driver_reboot_allowed": self.spec.rollout.reboot}
        for pool, group in sorted(groups.items()):
            yield run_roles(
                self.deployment.root,
                self.deployment.inventory,
                group,
                settings=self._settings(),
                extra_vars={**(target.extra_vars(pool) if pool else {}), **reboot},
                on_event=self.reporter.ansible_event,
                journal=self.journal,
            )

    def _gate(
        self, target: Target, nodes: Sequence[str], pools: Mapping[str, str]
    ) -> ReadinessReport | None:
        """Collect and judge `nodes` against the target's expectations (None: no node left)."""
        if not nodes:
            return None
        started = datetime.now(UTC)
        collect = self._fresh_collect_dir(list(nodes))
        run_playbook(
            self.deployment.root,
            "validate",
            self.deployment.inventory,
            limit=",".join(sorted(nodes)),
            settings=self._settings(),
            extra_vars={"gpu_validation_collect_dir": str(collect)},
            on_event=self.reporter.ansible_event,
            journal=self.journal,
        )
        expectations = {
            n: pool_expectation(target.spec, target.lock, pools[n], target.states[pools[n]])
            for n in nodes
        }
        return validate_collected(
            collect,
            expectations,
            cluster=self.spec.name,
            started_at=started,
            finished_at=datetime.now(UTC),
        )

    def _undo(
        self,
        outcome: WaveResult,
        back: Sequence[str],
        before: Mapping[str, str],
        pools: Mapping[str, str],
    ) -> list[str]:
        """Take `back` (nodes of the wave) to the lock each ran before; the ones proven ready
        again."""
        groups: dict[str, list[str]] = {}
        for node in back:
            previous = before.get(node)
            if previous is None:
                outcome.rollback_failed[node] = "no earlier lock recorded for this node"
                continue
            groups.setdefault(previous, []).append(node)
        ready: list[str] = []
        for ident, nodes in sorted(groups.items()):
            target = _recorded(self.deployment, self.spec, ident)
            report = self._probe(target, nodes, pools, every_node=False)
            plan = report.roles()
            # A node the probe could not read (a failed driver install leaves nvidia-smi
            # without a driver) gets every role of its pool, as `up` does.
            for node in report.unreachable:
                roles = target.states[pools[node]].roles
                plan[node] = [r for r in roles if r not in ("stack_packages", "gpu_validation")]
            failed = self._apply(target, plan, pools)
            gate = self._gate(target, [n for n in nodes if n not in failed], pools)
            failed.update(_not_ready(gate))
            good = [n for n in nodes if n not in failed]
            if good:
                record_lock(self.deployment, target.lock_text, good)
            outcome.rolled_back_to.update(dict.fromkeys(nodes, ident))
            outcome.rollback_failed.update(failed)
            ready += good
        return ready


def _not_ready(report: ReadinessReport | None) -> dict[str, str]:
    """Node -> the codes of the findings that keep it from being ready."""
    if report is None:
        return {}
    failed = {}
    for node in report.nodes:
        if not node.ready:
            codes = sorted({f.code for f in report.findings if f.node == node.host})
            failed[node.host] = "not ready: " + (", ".join(codes) or "see the report")
    return failed


def _node_digests(deployment: Deployment) -> dict[str, str]:
    """Node -> the digest of the lock the history says it runs."""
    return {node: record.digest for node, record in node_locks(deployment).items()}


def _recorded(deployment: Deployment, spec: ClusterSpec, digest: str) -> Target:
    """The lock of the history with this digest, as a target whose variables go on the
    command line (the rendered group_vars are the spec's lock's)."""
    record = next(r for r in reversed(lock_history(deployment)) if r.digest == digest)
    text, lock = recorded_lock(deployment, record)
    return Target(digest, spec, lock, text, override=True)
