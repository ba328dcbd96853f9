"""`gpuforge up`, `destroy`, `render` and `plan`: the commands that act on a deployment."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from gpuforge.catalog import load_catalog
from gpuforge.check import Lock, current_lock, make_context
from gpuforge.cli._approve import plan_gate, plan_table, reasons_to_ask
from gpuforge.cli._changes import show_changes
from gpuforge.cli._command import Command
from gpuforge.cli._output import Exit, console, emit_result, err_console, handled
from gpuforge.cli._progress import RichReporter, pausing, showing
from gpuforge.cli.cost_cmds import spec_context, spec_lock
from gpuforge.cli.spec_cmds import AsOfOpt, JsonOpt, SkipOpt, SpecArg, parse_as_of
from gpuforge.configure import EngineSettings, ansible_cfg
from gpuforge.cost import cost_report
from gpuforge.errors import GpuforgeError, InputError
from gpuforge.ops import (
    Deployment,
    Pipeline,
    SilentReporter,
    UpResult,
    run_lock,
    trusted_host_keys,
)
from gpuforge.provision import NodeRecord
from gpuforge.render import render_deployment
from gpuforge.spec import SpecDocument, load_spec

DeployOpt = Annotated[
    Path | None,
    typer.Option("--deploy-dir", help="Deployment folder; default .deploy/<cluster> by the spec."),
]
EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        help="Ansible engine: auto (tuned, mitogen if it loads), mitogen, ssh (tuned plain SSH), "
        "or defaults (Ansible's own: plain SSH, 5 forks, no pipelining; for comparisons).",
    ),
]


def engine_settings(engine: str) -> EngineSettings | None:
    """Engine settings for `--engine`; None lets the pipeline use its tuned defaults."""
    if engine == "defaults":
        return EngineSettings.ansible_defaults()
    if engine == "mitogen":
        return EngineSettings.tuned(engine="mitogen")
    if engine == "ssh":
        return EngineSettings.tuned(engine="ssh")
    if engine != "auto":
        raise InputError(f"--engine {engine!r} is not known", "use auto, mitogen, ssh or defaults")
    return None


def _cost_line(spec: Path) -> str | None:
    """What the spec's cluster costs on its market, for the question before a cloud plan."""
    try:
        data = cost_report(spec_context(spec, load_catalog()), spec_lock(spec)).to_data()
    except GpuforgeError:
        return None
    hourly, monthly = data["usd_per_hour"]["market"], data["usd_per_month"]["market"]
    return f"cost: {hourly:,.2f} USD/h, {monthly:,.2f} USD/month (`gpuforge cost` for details)"


def _up_json(result: UpResult) -> dict[str, Any]:
    hosts: dict[str, Any] = {}
    if result.configure is not None:
        for host, stats in result.configure.hosts.items():
            hosts[host] = {
                "ok": stats.ok,
                "changed": stats.changed,
                "failed": stats.failed,
                "unreachable": stats.unreachable,
                "skipped": stats.skipped,
            }
    failures = result.configure.failures if result.configure is not None else {}
    for host, failure in failures.items():
        hosts.setdefault(host, {})["failure"] = failure.to_dict()
    verdicts: dict[str, bool] = {}
    if result.report is not None:
        # A node whose configuration failed is not ready, whatever its collected facts say.
        verdicts = {n.host: n.ready and n.host not in failures for n in result.report.nodes}
    # A node the probe found converged is not configured: nothing ran, nothing changed there.
    untouched = {"ok": 0, "changed": 0, "failed": 0, "unreachable": 0, "skipped": 0}
    nodes = [
        {
            "name": node.name,
            "pool": node.pool,
            "address": node.private_ip,
            "ready": verdicts.get(node.name),
            "roles": result.plan.get(node.name, []),
            **hosts.get(node.name, untouched),
        }
        for node in result.nodes
    ]
    return {
        "cluster": result.cluster,
        "deployment": str(result.deployment),
        "skipped_steps": result.skipped,
        "plans": {target: plan.to_dict() for target, plan in result.plans.items()},
        "nodes": nodes,
        "report": result.report.to_dict() if result.report else None,
        "stopped_at_plan": result.stopped_at_plan,
        "findings": [f.to_dict() for f in result.findings],
        "notices": result.notices,
        "drift": result.drift.to_dict() if result.drift else None,
    }


def up_cmd(
    spec: SpecArg,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted or failed run.")
    ] = False,
    deploy_dir: DeployOpt = None,
    engine: EngineOpt = "auto",
    skip: SkipOpt = None,
    as_of: AsOfOpt = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Apply a cloud or destructive plan without asking.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check, lock, render and plan; apply nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check, lock, render, provision, configure and validate: spec to a cluster proven ready.

    On a cloud, or when the plan replaces or destroys anything, it shows the plan and the cost
    and asks first (--yes skips the question); nodes of the local fleet are created without.
    """
    with handled(as_json):
        doc = load_spec(spec)
        reporter = SilentReporter() if as_json else RichReporter(console)
        gate = plan_gate(
            console,
            yes=yes,
            dry_run=dry_run,
            quiet=as_json,
            cost=lambda: _cost_line(spec),
            paused=pausing(reporter),
        )
        pipeline = Pipeline(
            doc,
            spec,
            reporter,
            deploy_dir=deploy_dir,
            as_of=parse_as_of(as_of),
            settings=engine_settings(engine),
            skip=set(skip or ()),
            plan_gate=gate,
        )
        with showing(reporter):
            result = pipeline.up(resume=resume)
    if as_json:
        emit_result(result.exit_code, _up_json(result))
        raise typer.Exit(result.exit_code)
    if result.stopped_at_plan:
        console.print(f"{result.cluster}: stopped after the plan; nothing was applied")
        raise typer.Exit(Exit.OK)
    if result.plans and not reasons_to_ask(result.plans):
        console.print(plan_table(result.plans))
    if result.configure is not None:
        recap = Table(title="Ansible recap", title_justify="left")
        for column in ("node", "ok", "changed", "failed", "unreachable", "skipped"):
            recap.add_column(column)
        for host, stats in sorted(result.configure.hosts.items()):
            recap.add_row(
                host,
                str(stats.ok),
                str(stats.changed),
                str(stats.failed),
                str(stats.unreachable),
                str(stats.skipped),
            )
        console.print(recap)
        for host, failure in sorted(result.configure.failures.items()):
            console.print(f"[red]{host}[/] failed at {failure.task}: {failure.message}")
    if result.report is not None:
        console.print(result.report.rich_table())
        if result.report.findings:
            console.print(result.report.findings_table())
        console.print(f"report: {Deployment(result.deployment).report_html}")
    verdict = {0: "[bold green]ready[/]", 1: "[bold red]not ready[/]", 3: "[bold yellow]partial[/]"}
    console.print(f"{result.cluster}: {verdict.get(result.exit_code, result.exit_code)}")
    raise typer.Exit(result.exit_code)


def validate_cmd(
    spec: SpecArg,
    deploy_dir: DeployOpt = None,
    engine: EngineOpt = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Prove an existing cluster ready: collect facts on every node, judge them, report."""
    with handled(as_json):
        doc = load_spec(spec)
        reporter = SilentReporter() if as_json else RichReporter(console)
        pipeline = Pipeline(
            doc, spec, reporter, deploy_dir=deploy_dir, settings=engine_settings(engine)
        )
        with showing(reporter):
            result = pipeline.validate()
    report = result.report
    if as_json:
        emit_result(result.exit_code, report.to_dict() if report else None)
        raise typer.Exit(result.exit_code)
    if report is not None:
        console.print(report.rich_table())
        if report.findings:
            console.print(report.findings_table())
        console.print(f"report: {Deployment(result.deployment).report_html}")
    raise typer.Exit(result.exit_code)


def destroy_cmd(
    spec: SpecArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the nodes destroy would remove; remove none.")
    ] = False,
    deploy_dir: DeployOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Destroy everything `up` created for this spec (shows the nodes, asks first unless --yes)."""
    with handled(as_json):
        doc = load_spec(spec)
        reporter = SilentReporter() if as_json else RichReporter(console)
        pipeline = Pipeline(doc, spec, reporter, deploy_dir=deploy_dir)

        paused = pausing(reporter)

        def approve(nodes: list[NodeRecord]) -> bool:
            with paused():
                if not as_json:
                    console.print(_doomed_table(doc.spec.name, nodes))
                return not dry_run and (yes or _confirmed(doc.spec.name, len(nodes)))

        with showing(reporter):
            destroyed, nodes = pipeline.destroy(approve)
    if as_json:
        emit_result(
            Exit.OK,
            {
                "destroyed": destroyed,
                "dry_run": dry_run,
                "nodes": [_doomed(node) for node in nodes],
                "notices": pipeline.notices,
            },
        )
    elif dry_run:
        console.print("dry run: nothing destroyed")
    else:
        console.print(f"destroyed: {', '.join(destroyed) or 'nothing'}")


def _confirmed(cluster: str, count: int) -> bool:
    """Ask on the terminal; without one, refuse (exit 2) rather than guess."""
    if not sys.stdin.isatty():
        raise InputError("destroy needs confirmation and no terminal is attached", "pass --yes")
    return typer.confirm(f"Destroy these {count} node(s) of cluster {cluster}?")


def _doomed(node: NodeRecord) -> dict[str, str]:
    return {"name": node.name, "pool": node.pool, "target": node.target, "address": node.private_ip}


def _doomed_table(cluster: str, nodes: list[NodeRecord]) -> Table:
    """The nodes destroy removes, one row each, under the cluster's name."""
    table = Table(title=f"destroy {cluster}: {len(nodes)} node(s)", title_justify="left")
    for column in ("node", "pool", "target", "address"):
        table.add_column(column)
    for node in nodes:
        table.add_row(node.name, node.pool, node.target, node.private_ip)
    return table


def run_lock_notice(text: str) -> None:
    """Say on stderr what the run lock noticed (a stale lock taken over)."""
    err_console.print(f"[yellow]notice[/] {text}", soft_wrap=True, highlight=False)


def _lock_for(spec: Path, as_of: str | None) -> tuple[SpecDocument, Lock]:
    """The spec and its lock; solves and writes the lock when it is missing or stale."""
    doc = load_spec(spec)
    lock, _ = current_lock(make_context(doc, parse_as_of(as_of)), spec)
    return doc, lock


def render_cmd(
    spec: SpecArg,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Deployment folder.")] = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Render the deployment folder: Terraform roots, Ansible group_vars and ansible.cfg."""
    with handled(as_json):
        doc, lock = _lock_for(spec, as_of)
        deployment = Deployment.for_spec(spec, doc.spec.name, out)
        with run_lock(deployment.root, "gpuforge render", run_lock_notice):
            result = render_deployment(doc.spec, lock, deployment.root)
            deployment.write(
                deployment.ansible_cfg,
                ansible_cfg(
                    EngineSettings.tuned(known_hosts=trusted_host_keys(doc)), deployment.root
                ),
            )
    if as_json:
        emit_result(
            Exit.OK,
            {
                "deployment": str(result.root),
                "files": result.files,
                "changed": result.changed,
                "removed": result.removed,
                "roots": result.roots,
            },
        )
        return
    console.print(
        f"rendered {len(result.files)} files into {result.root} "
        f"({len(result.changed)} changed, {len(result.removed)} removed)"
    )
    for target, folder in result.roots.items():
        console.print(f"  {target}: {folder}")


def plan_cmd(
    spec: SpecArg,
    deploy_dir: DeployOpt = None,
    as_of: AsOfOpt = None,
    engine: EngineOpt = "auto",
    probe: Annotated[
        bool,
        typer.Option(
            "--probe/--no-probe", help="Probe a live cluster's nodes for what they still lack."
        ),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Show what would change and how disruptively: the Terraform plan per target (or the
    rendered diff without a binary), and on a live cluster the drift probe and the lock diff,
    every change with its update policy (in-place, rolling, replace, unsupported). Applies
    nothing; exit 1 when a target could not be planned, 3 when some nodes could not be probed."""
    with handled(as_json):
        doc = load_spec(spec)
        reporter = SilentReporter() if as_json else RichReporter(console)
        pipeline = Pipeline(
            doc,
            spec,
            reporter,
            deploy_dir=deploy_dir,
            as_of=parse_as_of(as_of),
            settings=engine_settings(engine),
        )
        with showing(reporter):
            result = pipeline.plan(probe=probe)
    if as_json:
        emit_result(result.exit_code, result.to_dict())
        raise typer.Exit(result.exit_code)
    if not result.binary:
        console.print("[yellow]no tofu or terraform on PATH: showing the rendered diff[/]")
        console.print(result.diff or "no change since the previous render", markup=False)
    if any(plan.has_changes for plan in result.plans.values()):
        console.print(plan_table(result.plans))
    for target, message in result.errors.items():
        console.print(f"[red]{target}[/]: {message}", markup=False)
    show_changes(result.changes)
    raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    """Add the deployment commands to the main app."""
    app.command("up", cls=Command)(up_cmd)
    app.command("validate", cls=Command)(validate_cmd)
    app.command("destroy", cls=Command)(destroy_cmd)
    app.command("render", cls=Command)(render_cmd)
    app.command("plan", cls=Command)(plan_cmd)
