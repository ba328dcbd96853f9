"""`gpuforge scale`: add and remove only the nodes a pool's new count asks for."""

from __future__ import annotations

from typing import Annotated

import typer

from gpuforge.cli._approve import plan_gate, plan_table
from gpuforge.cli._command import Command
from gpuforge.cli._output import Exit, console, emit_result, handled
from gpuforge.cli._progress import RichReporter, pausing, showing
from gpuforge.cli.spec_cmds import AsOfOpt, JsonOpt, SpecArg, parse_as_of
from gpuforge.cli.up_cmds import DeployOpt, EngineOpt, engine_settings
from gpuforge.ops import Pipeline, ScaleResult, SilentReporter
from gpuforge.spec import load_spec


def _show(result: ScaleResult) -> None:
    if result.plans:
        console.print(plan_table(result.plans))
    if result.stopped_at_plan:
        console.print(f"{result.cluster}: stopped after the plan; nothing was applied")
        return
    console.print(f"added: {', '.join(result.added) or 'none'}", highlight=False)
    console.print(
        f"removed (drained first): {', '.join(result.removed) or 'none'}", highlight=False
    )
    if result.configure is not None:
        for host, failure in sorted(result.configure.failures.items()):
            console.print(f"[red]{host}[/] failed at {failure.task}: {failure.message}")
    if result.report is not None:
        console.print(result.report.rich_table())
    verdict = {0: "[bold green]done[/]", 1: "[bold red]not ready[/]", 3: "[bold yellow]partial[/]"}
    console.print(f"{result.cluster}: {verdict.get(result.exit_code, result.exit_code)}")


def scale_cmd(
    spec: SpecArg,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Destroy the nodes a smaller pool drops, unasked.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Destroy nodes whose work did not end in time.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Plan and show the nodes that come and go; apply none."),
    ] = False,
    deploy_dir: DeployOpt = None,
    engine: EngineOpt = "auto",
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add and remove only the nodes the pools' counts changed: existing nodes stay untouched.

    New nodes are configured, validated and handed to the scheduler alone; nodes a smaller pool
    drops (those the last readiness report found not ready, then the highest indexes) are
    drained first, then destroyed, after a yes (--yes). A plan
    that would replace or change an existing node is refused (exit 2): see `gpuforge plan`.
    """
    with handled(as_json):
        doc = load_spec(spec)
        reporter = SilentReporter() if as_json else RichReporter(console)
        gate = plan_gate(
            console,
            yes=yes,
            dry_run=dry_run,
            quiet=as_json,
            cost=lambda: None,
            paused=pausing(reporter),
        )
        pipeline = Pipeline(
            doc,
            spec,
            reporter,
            deploy_dir=deploy_dir,
            as_of=parse_as_of(as_of),
            settings=engine_settings(engine),
            plan_gate=gate,
        )
        with showing(reporter):
            result = pipeline.scale(force=force)
    code = Exit.OK if result.stopped_at_plan else result.exit_code
    if as_json:
        emit_result(code, result.to_dict())
    else:
        _show(result)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add the scale command to the main app."""
    app.command("scale", cls=Command)(scale_cmd)
