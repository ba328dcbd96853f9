"""`up`: check -> lock -> render -> provision -> inventory -> configure -> validate -> report.

Each step is recorded in the deployment's journal. `resume=True` skips the steps the journal
shows done for the same spec inputs, so an interrupted or failed run continues where it
stopped; a fresh run repeats every step, which is idempotent (Terraform and Ansible change
nothing that is already right).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from gpuforge.check import (
    Finding,
    Lock,
    current_lock,
    inputs_digest,
    lock_path,
    make_context,
    read_lock,
    read_lock_text,
    repo_for,
    run_checks,
)
from gpuforge.configure import (
    ConfigureEvent,
    EngineSettings,
    Journal,
    PlaybookResult,
    StepStatus,
    ansible_cfg,
    run_playbook,
    scrub_runner_secrets,
    strict_host_key_args,
)
from gpuforge.desired import PoolState, desired_state
from gpuforge.errors import ConfigureError, GpuforgeError, InputError, Problem, SpecError
from gpuforge.fleet import (
    CLUSTER_ID_ENV,
    DEPLOYMENT_ENV,
    ClusterOwner,
    Fleet,
    resolve_state_dir,
)
from gpuforge.ops._converge import DriftReport, inventory_pools, probe_drift, run_roles
from gpuforge.ops._deploy import Deployment, gpuforge_command
from gpuforge.ops._expect import pool_expectation
from gpuforge.ops._health import unhealthy_nodes
from gpuforge.ops._history import record_lock
from gpuforge.ops._owner import deployment_owner
from gpuforge.ops._plan import PlanResult, plan_cluster
from gpuforge.ops._reporter import Reporter
from gpuforge.ops._runlock import run_lock
from gpuforge.ops._scale import (
    ScaleResult,
    drain_removed,
    join_scheduler,
    node_actions,
    scale_cluster,
)
from gpuforge.ops._slurm import slurm_host_vars
from gpuforge.providers import provider_for
from gpuforge.provision import (
    Action,
    Engine,
    NodeRecord,
    PlanSummary,
    build_inventory,
    deployment_nodes,
    discover_roots,
    inventory_yaml,
    known_hosts_path,
    merge_nodes,
    nodes_from_outputs,
    onprem_host_vars,
)
from gpuforge.render import (
    all_targets,
    build_files,
    check_folder,
    make_folder,
    previous_roots,
    read_manifest,
    render_deployment,
    target_pools,
    terraform_root_dir,
)
from gpuforge.spec import ClusterSpec, SpecDocument
from gpuforge.validate import ReadinessReport, validate_collected

# The Python every local fleet node runs modules with: the host's own, seen through its overlay.
FLEET_PYTHON = "/usr/bin/python3"

# Terraform's own default for concurrent resource operations; `up` raises it to the node count.
TERRAFORM_PARALLELISM = 10

STEPS = ("check", "lock", "render", "provision", "inventory", "configure", "validate")


def fleet_known_hosts(spec: ClusterSpec) -> Path | None:
    """The local fleet's file of exact node host keys when the spec has local pools, else None.

    `up` and `render` both write it into ansible.cfg, so a re-rendered folder still trusts
    nodes that were recreated with new keys.
    """
    if not _has_local_pools(spec):
        return None
    return Fleet(resolve_state_dir(None)).known_hosts_path(spec.name)


def trusted_host_keys(doc: SpecDocument) -> Path | None:
    """The file of exact host keys Ansible checks: the local fleet's, else the spec's
    `security.known_hosts` (checked: exit 2 when it cannot be read), else None."""
    return fleet_known_hosts(doc.spec) or known_hosts_path(doc)


def _has_local_pools(spec: ClusterSpec) -> bool:
    return any(provider_for(spec.pool_target(p)).simulated for p in spec.pools.values())


class ChecksFailed(SpecError):
    """The spec loaded but its checks found errors: exit 1 (findings), as `gpuforge check` does."""

    exit_code = 1


PlanGate = Callable[[dict[str, PlanSummary]], bool]
"""Asked with every root's plan before anything is applied; False stops the run there."""


class StoppedAtPlan(GpuforgeError):
    """`up` stopped after the plan: a dry run, or the plan was not approved. Nothing applied."""

    exit_code = 0


@dataclass
class UpResult:
    """Everything `up` learned, for the CLI's table and `--json`."""

    cluster: str
    deployment: Path
    findings: list[Finding] = field(default_factory=list)
    plans: dict[str, PlanSummary] = field(default_factory=dict)
    nodes: list[NodeRecord] = field(default_factory=list)
    configure: PlaybookResult | None = None
    report: ReadinessReport | None = None
    skipped: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    drift: DriftReport | None = None
    plan: dict[str, list[str]] = field(default_factory=dict)
    # Nodes `up` asked Terraform to replace (reclaimed by a spot interruption)
    replaced: list[str] = field(default_factory=list)
    exit_code: int = 0
    stopped_at_plan: bool = False


@dataclass
class DriftResult:
    """What `drift` found, and with `--fix` what the fix ran and what the probe found after."""

    before: DriftReport
    fix: PlaybookResult | None = None
    after: DriftReport | None = None

    @property
    def exit_code(self) -> int:
        """0 no drift (left), 1 drift, 3 some nodes could not be probed."""
        last = self.after or self.before
        if last.unreachable:
            return 3
        return 1 if last.drifted else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for `drift --json`."""
        return {
            "drift": self.before.to_dict(),
            "fix": self.fix.to_dict() if self.fix else None,
            "after": self.after.to_dict() if self.after else None,
            "exit_code": self.exit_code,
        }


class Pipeline:
    """One cluster's pipeline over its deployment folder; steps are methods, in STEPS order."""

    def __init__(
        self,
        doc: SpecDocument,
        spec_path: Path,
        reporter: Reporter,
        *,
        deploy_dir: Path | None = None,
        as_of: date | None = None,
        settings: EngineSettings | None = None,
        skip: set[str] | None = None,
        plan_gate: PlanGate | None = None,
    ) -> None:
        self.doc = doc
        self.spec: ClusterSpec = doc.spec
        self.spec_path = spec_path
        self.reporter = reporter
        self.deployment = Deployment.for_spec(spec_path, doc.spec.name, deploy_dir)
        self.as_of = as_of or date.today()
        self.settings = settings
        self.skip = skip or set()
        self.plan_gate = plan_gate
        self.lock: Lock | None = None
        self.digest = inputs_digest(doc.spec)
        # Hosts whose validation facts this process collected at the end of configure, and when
        # that run started (None when it collected none).
        self.collected: set[str] = set()
        self.collected_at: datetime | None = None
        make_folder(self.deployment.root)
        # Refuses a folder holding a symlink before anything in it is read (a crashed run's
        # secrets are removed once the run lock is held: a running run's files are its own).
        check_folder(self.deployment.root)
        # The deployment asking the fleet for nodes, once a run has read or created its id.
        self.owner: ClusterOwner | None = None
        # Notices for the caller (a stale run lock taken over).
        self.notices: list[str] = []
        self.journal = Journal(self.deployment.journal)
        # Nodes an earlier configure left converged: `up` probes them instead of configuring
        # them from scratch. A node a run failed on, or never finished, is not among them.
        self.known_nodes = self._converged_before()

    # ---- helpers -------------------------------------------------------------------------

    def _read_inputs(self) -> None:
        """Read (and so check) every file the run reads before anything is written: a corrupt
        lock, manifest or journal stops the command with the deployment folder untouched."""
        read_lock_text(self.spec_path)
        read_manifest(self.deployment.root)
        self.journal.entries()

    def _env(self) -> dict[str, str]:
        env = {
            "TF_VAR_gpuforge_bin": gpuforge_command(),
            "TF_VAR_fleet_state_dir": str(resolve_state_dir(None)),
        }
        # The local module's provisioners run `fleet node-up/node-down` in Terraform's
        # environment: these name the deployment asking, so the fleet can refuse a clash.
        if self.owner is not None:
            env[CLUSTER_ID_ENV] = self.owner.cluster_id
            env[DEPLOYMENT_ENV] = self.owner.deployment
        return env

    def _notice(self, text: str) -> None:
        self.notices.append(text)
        self.reporter.step_finished("run lock", "done", text)

    @contextmanager
    def _exclusive(self, command: str, *, create_id: bool = False) -> Iterator[None]:
        """Hold the deployment's run lock (a second run is refused, exit 2), then check that
        the local fleet's cluster of this name, if any, was created by this deployment.

        `create_id` (up): create the deployment's cluster id if it has none, and claim a
        recorded cluster that has no owner yet.
        """
        with run_lock(self.deployment.root, f"gpuforge {command}", self._notice):
            # Removes what a crashed run left with secrets.
            scrub_runner_secrets(self.deployment.root)
            self.owner = deployment_owner(self.deployment.root, create=create_id)
            if _has_local_pools(self.spec):
                fleet = Fleet(resolve_state_dir(None))
                if create_id and self.owner is not None:
                    fleet.claim(self.spec.name, self.owner)
                else:
                    fleet.check_owner(self.spec.name, self.owner)
            yield

    def _engine(self, root: Path) -> Engine:
        # Every node of the spec at once: Terraform's default of 10 makes a 16-node fleet
        # start in two waves.
        nodes = sum(pool.count for pool in self.spec.pools.values())
        return Engine(
            root,
            env=self._env(),
            on_event=self.reporter.terraform_event,
            parallelism=max(TERRAFORM_PARALLELISM, nodes),
        )

    def _run_step(
        self, name: str, action: Callable[[], dict[str, Any]], done: set[str], result: UpResult
    ) -> None:
        if name in done:
            result.skipped.append(name)
            self.reporter.step_finished(name, "skipped", "done in the interrupted run")
            return
        self.reporter.step_started(name)
        self.journal.record(f"up:{name}", "started", digest=self.digest)
        try:
            data = action()
        except StoppedAtPlan as stopped:
            # Not a failure: nothing was applied, and `--resume` plans again.
            self.journal.record(f"up:{name}", "failed", error=stopped.message, digest=self.digest)
            self.reporter.step_finished(name, "skipped", stopped.message)
            raise
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt):
                self.journal.record(f"up:{name}", "interrupted", digest=self.digest)
            else:
                self.journal.record(f"up:{name}", "failed", error=str(error), digest=self.digest)
            self.reporter.step_finished(name, "failed", str(error))
            raise
        # A step that ran to its end but left work undone (a node failed to configure, the
        # cluster is not ready) is recorded failed, so that `--resume` runs it again.
        status: StepStatus = "done" if data.pop("complete", True) else "failed"
        self.journal.record(f"up:{name}", status, digest=self.digest, **data)
        self.reporter.step_finished(name, status, str(data.get("summary", "")))

    def completed(self) -> set[str]:
        """Steps the journal's current run finished for these same spec inputs."""
        latest = {e.step[3:]: e for e in self.journal.current_run() if e.step.startswith("up:")}
        return {
            step
            for step, entry in latest.items()
            if step in STEPS and entry.status == "done" and entry.data.get("digest") == self.digest
        }

    # ---- steps ---------------------------------------------------------------------------

    def step_check(self, result: UpResult) -> dict[str, Any]:
        """Run the rules; errors stop the pipeline before anything is created."""
        ctx = make_context(self.doc, self.as_of, read_lock_text(self.spec_path), repo_for(self.doc))
        skip = {"GF-LOCK-002"} | self.skip
        result.findings = run_checks(ctx, skip)
        errors = [f for f in result.findings if f.severity == "error"]
        if errors:
            raise ChecksFailed(
                [Problem(f.location, f"{f.code}: {f.message}", f.fix) for f in errors]
            )
        # Bad input, not a finding: an on-prem key file that cannot be used stops here (exit 2).
        onprem_host_vars(self.doc)
        known_hosts_path(self.doc)
        return {"summary": f"{len(result.findings)} finding(s), no errors"}

    def step_lock(self, result: UpResult) -> dict[str, Any]:
        """Use the committed lock when it matches the spec; otherwise solve and write it."""
        del result
        ctx = make_context(self.doc, self.as_of, repo=repo_for(self.doc))
        self.lock, wrote = current_lock(ctx, self.spec_path)
        name = lock_path(self.spec_path).name
        return {"summary": f"wrote {name}" if wrote else f"using {name}"}

    def _ensure_lock(self) -> Lock:
        if self.lock is None:
            self.lock = read_lock(lock_path(self.spec_path))
        return self.lock

    def step_render(self, result: UpResult) -> dict[str, Any]:
        """Write the deployment folder (Terraform roots, group_vars, ansible.cfg).

        A target the spec no longer uses is destroyed first, while its root still exists:
        deleting the files alone would orphan its machines.
        """
        del result
        lock = self._ensure_lock()
        _, roots = build_files(self.spec, lock)
        retired = {
            target: folder
            for target, folder in previous_roots(self.deployment.root).items()
            if folder not in roots.values() and (self.deployment.root / folder).is_dir()
        }
        for target, folder in retired.items():
            self.reporter.step_started("retire", target)
            engine = self._engine(self.deployment.root / folder)
            engine.init()
            engine.destroy()
            self.reporter.step_finished("retire", "done", target)
        unhealthy = unhealthy_nodes(self.deployment, self.journal)
        rendered = render_deployment(self.spec, lock, self.deployment.root, unhealthy=unhealthy)
        settings = self._settings()
        self.deployment.write(
            self.deployment.ansible_cfg, ansible_cfg(settings, self.deployment.root)
        )
        return {
            "summary": f"{len(rendered.changed)} file(s) changed",
            "files": len(rendered.files),
            "retired": sorted(retired),
        }

    def step_provision(self, result: UpResult) -> dict[str, Any]:
        """init and plan every root, ask the plan gate (if any), then apply the saved plans;
        record the plan summaries."""
        planned = []
        reclaimed = self._reclaimed()
        result.replaced = sorted(name for names in reclaimed.values() for name in names)
        for root in discover_roots(self.deployment.root):
            engine = self._engine(root.path)
            engine.init()
            plan = engine.plan(replace=list(reclaimed.get(root.path.name, {}).values()))
            result.plans[root.target or root.path.name] = engine.show_plan(plan.plan_file.name)
            planned.append((engine, plan))
        if self.plan_gate is not None and not self.plan_gate(result.plans):
            result.stopped_at_plan = True
            raise StoppedAtPlan("stopped after the plan; nothing was applied")
        # A pool's count went down: the nodes Terraform destroys are drained first.
        removed = [n for n, a in node_actions(result.plans).items() if a is Action.DELETE]
        drain_removed(self, removed, force=False)
        for engine, plan in planned:
            if plan.has_changes:
                engine.apply(plan.plan_file.name)
        totals = {target: plan.totals.to_dict() for target, plan in result.plans.items()}
        return {
            "summary": f"{len(result.plans)} root(s) applied",
            "plans": totals,
            "replaced": result.replaced,
        }

    def _reclaimed(self) -> dict[str, dict[str, str]]:
        """Root folder -> node -> Terraform address of each node of a simulated target that a
        spot interruption took back: `up` replaces them, as a cloud's group replaces its own."""
        found: dict[str, dict[str, str]] = {}
        for target in all_targets(self.spec):
            if not provider_for(target).simulated:
                continue
            pools = set(target_pools(self.spec, target))
            nodes = Fleet(resolve_state_dir(None)).reclaimed(self.spec.name)
            found[Path(terraform_root_dir(target.slug)).name] = {
                node.name: f'module.pool_{node.pool}.null_resource.node["{node.name}"]'
                for node in nodes
                if node.pool in pools
            }
        return found

    def step_inventory(self, result: UpResult) -> dict[str, Any]:
        """Terraform outputs -> Ansible inventory, with the connection settings of the local
        fleet's nodes and of the onprem hosts (SSH user and key, or a local connection)."""
        nodes = deployment_nodes(self.deployment.root, self._engine)
        provisioned = {node.name for node in nodes}
        extra = {
            name: values
            for name, values in onprem_host_vars(self.doc).items()
            if name in provisioned
        }
        fleet = Fleet(resolve_state_dir(None))
        for node in nodes:
            pool = self.spec.pools.get(node.pool)
            if pool is None:
                continue
            if provider_for(self.spec.pool_target(pool)).simulated:
                # Fleet nodes share this machine's /usr/bin/python3; naming it spares every
                # module call interpreter discovery (mitogen reports it back as a fact each time).
                # Nodes are on this machine's bridge: compressing their SSH traffic only costs CPU.
                # The fleet's host keys travel with the inventory, so that plain ansible-playbook
                # (without gpuforge's ansible.cfg) checks them too.
                extra[node.name] = {
                    "ansible_user": "root",
                    "ansible_ssh_private_key_file": str(fleet.client_key_path(self.spec.name)),
                    "ansible_ssh_common_args": strict_host_key_args(
                        fleet.known_hosts_path(self.spec.name)
                    ),
                    "ansible_python_interpreter": FLEET_PYTHON,
                    "mitogen_ssh_compression": False,
                }
        pools = {node.name: node.pool for node in nodes}
        for name, values in slurm_host_vars(self.spec, self.deployment.root, pools).items():
            extra[name] = {**extra.get(name, {}), **values}
        inventory = build_inventory(nodes, extra)
        self.deployment.write(self.deployment.inventory, inventory_yaml(inventory))
        result.nodes = nodes
        return {"summary": f"{len(nodes)} node(s)", "nodes": [n.name for n in nodes]}

    def _settings(self) -> EngineSettings:
        """The engine settings: the caller's (default tuned), with the known host keys."""
        settings = self.settings or EngineSettings.tuned()
        if settings.known_hosts is None:
            settings = dataclasses.replace(settings, known_hosts=trusted_host_keys(self.doc))
        return settings

    def node_states(self, nodes: list[str] | None = None) -> dict[str, PoolState]:
        """Node -> its pool's desired state, for the inventory's nodes (or `nodes` of them)."""
        pools = inventory_pools(self.deployment.inventory)
        unknown = sorted(set(nodes or []) - set(pools))
        if unknown:
            raise InputError(
                f"no node named {', '.join(unknown)} in {self.deployment.inventory}",
                f"use node names the inventory lists: {', '.join(sorted(pools))}",
            )
        states = desired_state(self.spec, self._ensure_lock())
        return {
            node: states[pool]
            for node, pool in sorted(pools.items())
            if pool in states and (nodes is None or node in nodes)
        }

    def _converged_before(self) -> set[str]:
        """The nodes the latest configure step recorded converged (configured or found so)."""
        for entry in reversed(self.journal.entries()):
            if entry.step == "up:configure" and "converged" in entry.data:
                return set(entry.data["converged"])
        return set()

    def _configure_plan(self, result: UpResult) -> tuple[dict[str, list[str]], list[str]]:
        """(node -> the roles `up` runs there, every node): every role on new nodes and on nodes
        that could not be probed, the roles that own its drift on a drifted node, none on a
        converged one.

        Nodes count as new unless an earlier configure left them converged. Nodes `up` asked
        Terraform to replace (reclaimed spot nodes) are new; when Terraform replaced others too
        (which ones, its totals do not say), every node is.
        """
        states = self.node_states([node.name for node in result.nodes] or None)
        replacing = sum(p.totals.replace for p in result.plans.values())
        if replacing and replacing != len(result.replaced):
            known = []
        else:
            known = [n for n in states if n in self.known_nodes and n not in result.replaced]
        plan = {n: _every_role(states[n], new=True) for n in states if n not in known}
        self.collected, self.collected_at = set(), None
        if known:
            # The probe also collects the validation facts of the nodes it reads: those found
            # converged are then validated without a second Ansible run.
            collect = self._fresh_collect_dir(known)
            started = datetime.now(UTC)
            report = probe_drift(
                self.deployment.root,
                self.deployment.inventory,
                states,
                known,
                settings=self._settings(),
                on_event=self.reporter.ansible_event,
                journal=self.journal,
                # Every node of the inventory: no --limit to resolve (an Ansible start-up).
                every_node=set(known) == set(inventory_pools(self.deployment.inventory)),
                collect_dir=collect,
            )
            result.drift = report
            for node in report.unreachable:
                plan[node] = _every_role(states[node], new=False)
            for node, roles in report.roles().items():
                plan[node] = [*roles, "gpu_validation"]
            self.collected = set(report.collected) - set(plan)
            self.collected_at = started if self.collected else None
        result.plan = {n: plan[n] for n in sorted(plan)}
        unreachable = set(result.drift.unreachable) if result.drift else set()
        self.journal.record(
            "up:converge",
            "done",
            digest=self.digest,
            decisions={n: _decision(plan.get(n), n in known, n in unreachable) for n in states},
            drifts=result.drift.to_dict()["drifts"] if result.drift else [],
        )
        return result.plan, sorted(states)

    def step_configure(self, result: UpResult) -> dict[str, Any]:
        """Run site.yml on the nodes that need work, collecting validation facts as its last role.

        On an existing cluster each known node is probed first: one without drift is skipped,
        a drifted one runs only the roles that own its drift (gpuforge_enable_<role> per node),
        new or unreachable nodes run every role. Failed nodes are reported and the others still
        finish. `step_validate` collects whatever this run did not (skipped or failed nodes).
        """
        plan, nodes = self._configure_plan(result)
        collect = self._fresh_collect_dir(sorted(plan))
        skipped = [node for node in nodes if node not in plan]
        # Nodes new to a cluster that ran before, and nodes that left it: the scheduler hears.
        new = [node for node in nodes if node not in self.known_nodes] if self.known_nodes else []
        left = self.known_nodes - set(nodes)
        if not plan:
            if left:
                join_scheduler(self, [])
            return {
                "summary": "no drift: nothing to configure",
                "failed_hosts": [],
                "converged": skipped,
                "lock_record": self._record_lock(skipped),
            }
        started = datetime.now(UTC)
        outcome = run_roles(
            self.deployment.root,
            self.deployment.inventory,
            plan,
            settings=self._settings(),
            extra_vars={"gpu_validation_collect_dir": str(collect)},
            on_event=self.reporter.ansible_event,
            journal=self.journal,
        )
        configured = {host for host in outcome.ok_hosts if (collect / host).is_dir()}
        self.collected |= configured
        self.collected_at = self.collected_at or (started if configured else None)
        result.configure = outcome
        if outcome.status == "failed" and not outcome.hosts:
            raise ConfigureError("Ansible could not configure any node", "see the output above")
        if new or left:
            join_scheduler(self, [node for node in new if node in outcome.ok_hosts])
        converged = sorted({*skipped, *outcome.ok_hosts})
        return {
            "summary": f"{len(plan)} node(s) configured, changed={outcome.changed} "
            f"failed={len(outcome.failed_hosts)}",
            "failed_hosts": outcome.failed_hosts,
            "converged": converged,
            "lock_record": self._record_lock(converged),
            "complete": not outcome.failed_hosts,
        }

    def _record_lock(self, nodes: list[str]) -> int | None:
        """Record in the lock history that the spec's lock reached `nodes` (converged now);
        returns the record's number."""
        text = read_lock_text(self.spec_path)
        if text is None:
            return None
        record = record_lock(self.deployment, text, nodes)
        return record.n if record else None

    def drift(self, limit: list[str] | None = None, fix: bool = False) -> DriftResult:
        """Probe the nodes (all, or `limit`) and diff them; with `fix`, run only the roles that
        own the drift on the drifted nodes, then probe those nodes again."""
        states = self.node_states(limit)
        on_event: Callable[[ConfigureEvent], None] = self.reporter.ansible_event
        settings = self._settings()
        root, inventory = self.deployment.root, self.deployment.inventory
        self.reporter.step_started("drift")

        def probe() -> DriftReport:
            return probe_drift(
                root,
                inventory,
                states,
                list(states),
                settings=settings,
                on_event=on_event,
                every_node=limit is None,
            )

        before = probe()
        self.journal.record("drift", "done", **before.to_dict())
        self.reporter.step_finished("drift", "done", f"{len(before.drifted)} node(s) drifted")
        result = DriftResult(before)
        plan = before.roles()
        if not fix or not plan:
            return result
        self.reporter.step_started("fix", ", ".join(sorted(plan)))
        result.fix = run_roles(
            root, inventory, plan, settings=settings, on_event=on_event, journal=self.journal
        )
        self.journal.record("drift:fix", "done", plan=plan, changed=result.fix.changed)
        self.reporter.step_finished("fix", result.fix.status, f"changed={result.fix.changed}")
        result.after = probe()
        self.journal.record("drift:after", "done", **result.after.to_dict())
        return result

    def _fresh_collect_dir(self, hosts: list[str] | None) -> Path:
        """The collect folder without old facts of `hosts` (None: of every host), so a node that
        cannot be reached is judged as not collected rather than on an earlier run's files."""
        collect = self.deployment.collect_dir
        if hosts is None:
            self.deployment.remove_tree(collect)
        for host in hosts or []:
            self.deployment.remove_tree(collect / host)
        return self.deployment.folder(collect)

    def step_validate(self, result: UpResult) -> dict[str, Any]:
        """Collect the facts configure did not, judge them, write the JSON and HTML reports."""
        if not result.nodes:
            result.nodes = deployment_nodes(self.deployment.root, self._engine)
        pending = [node.name for node in result.nodes if node.name not in self.collected]
        started = self.collected_at or datetime.now(UTC)
        collect = self._fresh_collect_dir(None if not self.collected else pending)
        if pending:
            run_playbook(
                self.deployment.root,
                "validate",
                self.deployment.inventory,
                limit=None if not self.collected else ",".join(pending),
                settings=self._settings(),
                extra_vars={"gpu_validation_collect_dir": str(collect)},
                on_event=self.reporter.ansible_event,
                journal=self.journal,
            )
        lock = self._ensure_lock()
        expectations = {
            node.name: pool_expectation(self.spec, lock, node.pool)
            for node in result.nodes
            if node.pool in lock.pools
        }
        report = validate_collected(
            collect,
            expectations,
            cluster=self.spec.name,
            started_at=started,
            finished_at=datetime.now(UTC),
        )
        self.deployment.write(self.deployment.report_json, report.to_json())
        self.deployment.write(self.deployment.report_html, report.to_html())
        result.report = report
        return {
            "summary": "ready" if report.ready else "not ready",
            "ready": report.ready,
            "complete": report.ready,
        }

    def validate(self) -> UpResult:
        """Collect and judge the nodes of an existing deployment (the `validate` command)."""
        self._read_inputs()
        result = UpResult(self.spec.name, self.deployment.root)
        with self._exclusive("validate"):
            if not self.deployment.inventory.exists():
                raise InputError(
                    f"no inventory at {self.deployment.inventory}",
                    "run `gpuforge up` first, or pass the --deploy-dir it used",
                )
            self._run_step("validate", functools.partial(self.step_validate, result), set(), result)
        result.notices = self.notices
        result.exit_code = up_exit_code(result)
        return result

    # ---- the whole run -------------------------------------------------------------------

    def up(self, resume: bool = False) -> UpResult:
        """Run every step (skipping those already done when resuming); returns the result.

        Holds the deployment's run lock throughout: a second `up` on the same folder is refused.
        """
        self._read_inputs()
        with self._exclusive("up", create_id=True):
            result = self._up(resume)
        result.notices = self.notices
        return result

    def _up(self, resume: bool) -> UpResult:
        result = UpResult(self.spec.name, self.deployment.root)
        done = self.completed() if resume else set()
        if not resume:
            self.journal.start_run()
        steps: dict[str, Callable[[UpResult], dict[str, Any]]] = {
            "check": self.step_check,
            "lock": self.step_lock,
            "render": self.step_render,
            "provision": self.step_provision,
            "inventory": self.step_inventory,
            "configure": self.step_configure,
            "validate": self.step_validate,
        }
        try:
            for name in STEPS:
                self._run_step(name, functools.partial(steps[name], result), done, result)
        except StoppedAtPlan:
            return result
        result.exit_code = up_exit_code(result)
        return result

    def plan(self, probe: bool = True) -> PlanResult:
        """What would change and how disruptively: see `gpuforge.ops._plan`."""
        return plan_cluster(self, probe=probe)

    def scale(self, force: bool = False) -> ScaleResult:
        """Add and remove only the nodes the pools' counts changed: see `gpuforge.ops._scale`."""
        return scale_cluster(self, UpResult(self.spec.name, self.deployment.root), force=force)

    def destroy(
        self, approve: Callable[[list[NodeRecord]], bool] = lambda _nodes: True
    ) -> tuple[list[str], list[NodeRecord]]:
        """Destroy every root of the deployment once `approve` accepts the nodes that go.

        Returns the targets destroyed (none when `approve` declined) and the nodes it was shown.
        Holds the run lock throughout, and refuses a local cluster this deployment did not
        create.
        """
        self._read_inputs()
        with self._exclusive("destroy"):
            self._terraform_dir_or_refuse()
            nodes = self._nodes_to_destroy()
            if not approve(nodes):
                return [], nodes
            return self._destroy(), nodes

    def _nodes_to_destroy(self) -> list[NodeRecord]:
        """The nodes of every root's Terraform outputs: what destroy removes."""
        outputs = []
        for root in discover_roots(self.deployment.root):
            engine = self._engine(root.path)
            engine.init()
            outputs.append(nodes_from_outputs(engine.outputs(), target=root.target))
        return merge_nodes(outputs)

    def _terraform_dir_or_refuse(self) -> None:
        terraform_dir = self.deployment.root / "terraform"
        if not terraform_dir.exists():
            raise InputError(
                f"nothing to destroy: {terraform_dir} does not exist",
                "run `gpuforge up` first, or pass --deploy-dir",
            )

    def _destroy(self) -> list[str]:
        destroyed = []
        for root in discover_roots(self.deployment.root):
            self.reporter.step_started("destroy", root.target or root.path.name)
            engine = self._engine(root.path)
            engine.init()
            engine.destroy()
            destroyed.append(root.target or root.path.name)
            self.reporter.step_finished("destroy", "done", root.target or root.path.name)
        self.journal.record("destroy", "done", targets=destroyed)
        return destroyed


def _decision(roles: list[str] | None, known: bool, unreachable: bool) -> str:
    """How `up` treats one node, in words for the journal."""
    if not known:
        return "new: every role"
    if unreachable:
        return "unreachable before: every role"
    return "drift: " + ", ".join(roles) if roles else "no drift: skipped"


def _every_role(state: PoolState, new: bool) -> list[str]:
    """Every role of the pool plus validation's collection; the one-transaction stack install
    (stack_packages) only on new nodes, where it pays off."""
    roles = [r for r in state.roles if r not in ("stack_packages", "gpu_validation")]
    return ["stack_packages", *roles, "gpu_validation"] if new else [*roles, "gpu_validation"]


def up_exit_code(result: UpResult) -> int:
    """0 ready; 1 not ready, or every node failed; 3 some nodes failed while others are fine.

    A node that failed configure counts as failed even when validation judged its hardware
    ready: a cluster on which every node failed is not a partial success.
    """
    failed = set(result.configure.failed_hosts) if result.configure else set()
    report = result.report
    if not failed:
        return 0 if report is None or report.ready else 1
    if report is not None:
        healthy = {n.host for n in report.nodes if n.ready} - failed
    else:
        healthy = set(result.configure.hosts) - failed if result.configure else set()
    return 3 if healthy else 1
