"""`gpuforge drift`: each node's actual state against the desired state, and `--fix`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from gpuforge.cli._command import Command
from gpuforge.cli._output import console, emit_result, handled
from gpuforge.cli._progress import RichReporter, showing
from gpuforge.cli.spec_cmds import JsonOpt, SpecArg
from gpuforge.cli.up_cmds import DeployOpt, EngineOpt, engine_settings
from gpuforge.ops import DriftReport, DriftResult, Pipeline, SilentReporter
from gpuforge.spec import load_spec

FixOpt = Annotated[
    bool, typer.Option("--fix", help="Run only the owning roles on the drifted nodes, then probe.")
]
LimitOpt = Annotated[
    str | None, typer.Option("--limit", help="Comma-separated node names to probe (default all).")
]


def _table(title: str, report: DriftReport) -> Table:
    table = Table(title=title)
    for column in ("node", "code", "item", "expected", "actual", "role"):
        table.add_column(column)
    for node in report.drifted:
        for d in report.drifts[node]:
            table.add_row(d.node, d.code, d.item, d.expected, d.actual, d.role)
    for node, reason in sorted(report.unreachable.items()):
        table.add_row(node, "-", "probe", "reachable", reason[:80], "-")
    return table


def _show(result: DriftResult) -> None:
    before = result.before
    if before.drifted or before.unreachable:
        console.print(_table("Drift", before))
    console.print(
        f"{len(before.nodes)} node(s) probed in {before.duration_s:.1f} s, "
        f"{len(before.drifted)} drifted"
    )
    if result.fix is not None:
        console.print(f"fix: {result.fix.status}, changed={result.fix.changed}")
    if result.after is not None:
        if result.after.drifted or result.after.unreachable:
            console.print(_table("Drift left after the fix", result.after))
        console.print(f"after the fix: {len(result.after.drifted)} node(s) drifted")


def drift_cmd(
    spec: SpecArg,
    fix: FixOpt = False,
    limit: LimitOpt = None,
    deploy_dir: DeployOpt = None,
    engine: EngineOpt = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Show, per node, every item that differs from the desired state (exit 1 when any does)."""
    with handled(as_json):
        doc = load_spec(spec)
        reporter = SilentReporter() if as_json else RichReporter(console)
        pipeline = Pipeline(
            doc, spec, reporter, deploy_dir=deploy_dir, settings=engine_settings(engine)
        )
        nodes = [n.strip() for n in limit.split(",") if n.strip()] if limit else None
        with showing(reporter):
            result = pipeline.drift(nodes, fix=fix)
    if as_json:
        emit_result(result.exit_code, result.to_dict())
    else:
        _show(result)
    raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    """Add the drift command to the main app."""
    app.command("drift", cls=Command)(drift_cmd)
