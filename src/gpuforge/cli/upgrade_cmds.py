"""`gpuforge upgrade` and `rollback`: a lock rolled through a live cluster in gated waves."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gpuforge.cli._approve import spends
from gpuforge.cli._command import Command
from gpuforge.cli._output import console, emit_result, handled
from gpuforge.cli._progress import RichReporter, showing
from gpuforge.cli.spec_cmds import AsOfOpt, JsonOpt, SpecArg, parse_as_of
from gpuforge.cli.up_cmds import DeployOpt, EngineOpt, engine_settings
from gpuforge.errors import InputError
from gpuforge.ops import PHASES, Rollout, RolloutResult, SilentReporter
from gpuforge.spec import ClusterSpec, load_spec

ResumeOpt = Annotated[
    bool,
    typer.Option("--resume", help="Continue an interrupted or stopped run with its waves."),
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Drain nodes even when work still runs on them at the limit."),
]
YesOpt = Annotated[
    bool, typer.Option("--yes", "-y", help="Change a cloud cluster's nodes without asking.")
]


def _approve(spec: ClusterSpec, command: str, yes: bool, quiet: bool) -> None:
    """Ask before changing nodes on a cloud target; local and own hosts go ahead."""
    clouds = sorted({str(spec.pool_target(p)) for p in spec.pools.values()} - {""})
    clouds = [t for t in clouds if spends(t)]
    if not clouds or yes:
        return
    if quiet or not sys.stdin.isatty():
        raise InputError(
            f"`{command}` changes nodes on {', '.join(clouds)} and needs confirmation, "
            "but no terminal is attached",
            "pass --yes to go ahead",
        )
    if not typer.confirm(f"{command} the nodes of {spec.name} on {', '.join(clouds)}?"):
        raise typer.Exit(0)


def _short(digest: str) -> str:
    """A lock digest as people read it: its first 12 hex digits."""
    return digest.removeprefix("sha256:")[:12]


def _table(result: RolloutResult) -> Table:
    table = Table(title=f"{result.command} to lock {_short(result.target)}", title_justify="left")
    for column in ("wave", "nodes", "status", *PHASES, "why"):
        table.add_column(column)
    for wave in result.waves:
        why = "; ".join(f"{n}: {r}" for n, r in sorted(wave.failed.items())) or wave.error or ""
        table.add_row(
            wave.wave.name,
            ", ".join(wave.nodes),
            wave.status,
            *(f"{wave.seconds[p]:.1f}" if p in wave.seconds else "-" for p in PHASES),
            why[:120],
            style={"done": None, "partial": "yellow"}.get(wave.status, "red"),
        )
    return table


def _show(result: RolloutResult) -> None:
    if result.waves:
        console.print(_table(result))
    if result.unreachable:
        for node, reason in sorted(result.unreachable.items()):
            console.print(f"[red]{node}[/] could not be probed: {reason}", highlight=False)
        console.print("nothing was changed: every node must answer before a rollout starts")
    if result.unchanged:
        console.print(f"already on the target: {', '.join(result.unchanged)}", highlight=False)
    locks: dict[str, list[str]] = {}
    for node, ident in sorted(result.node_locks.items()):
        locks.setdefault(ident, []).append(node)
    for ident, nodes in sorted(locks.items()):
        mark = " (target)" if ident == result.target else ""
        console.print(f"lock {_short(ident)}{mark}: {', '.join(nodes)}", highlight=False)
    if result.interrupted:
        console.print("[yellow]interrupted between waves[/]: `--resume` continues")
    verdict = {0: "[bold green]done[/]", 1: "[bold red]stopped[/]", 3: "[bold yellow]partial[/]"}
    console.print(f"{result.cluster}: {verdict.get(result.exit_code, result.exit_code)}")


def _run(
    command: str,
    spec: Path,
    *,
    resume: bool,
    force: bool,
    yes: bool,
    deploy_dir: Path | None,
    engine: str,
    as_of: str | None,
    as_json: bool,
) -> None:
    with handled(as_json):
        doc = load_spec(spec)
        _approve(doc.spec, command, yes, as_json)
        reporter = SilentReporter() if as_json else RichReporter(console)
        rollout = Rollout(
            doc,
            spec,
            reporter,
            deploy_dir=deploy_dir,
            as_of=parse_as_of(as_of),
            settings=engine_settings(engine),
        )
        with showing(reporter):
            if command == "upgrade":
                result = rollout.upgrade(resume=resume, force=force)
            else:
                result = rollout.rollback(resume=resume, force=force)
    if as_json:
        emit_result(result.exit_code, result.to_dict())
    else:
        _show(result)
    raise typer.Exit(result.exit_code)


def upgrade_cmd(
    spec: SpecArg,
    resume: ResumeOpt = False,
    force: ForceOpt = False,
    yes: YesOpt = False,
    deploy_dir: DeployOpt = None,
    engine: EngineOpt = "auto",
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Roll the spec's lock through the cluster in gated waves (canary first, then batches).

    Only nodes whose state differs take part, each running only the roles that own the change.
    Per wave: drain, apply, validate as the gate, undrain. A failed gate rolls that wave back to
    the lock it ran before and stops (exit 1); later waves are untouched. Ctrl-C stops after the
    wave under way; `--resume` continues.
    """
    _run(
        "upgrade",
        spec,
        resume=resume,
        force=force,
        yes=yes,
        deploy_dir=deploy_dir,
        engine=engine,
        as_of=as_of,
        as_json=as_json,
    )


def rollback_cmd(
    spec: SpecArg,
    resume: ResumeOpt = False,
    force: ForceOpt = False,
    yes: YesOpt = False,
    deploy_dir: DeployOpt = None,
    engine: EngineOpt = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Return the whole cluster to the lock it ran before the spec's, in the same gated waves."""
    _run(
        "rollback",
        spec,
        resume=resume,
        force=force,
        yes=yes,
        deploy_dir=deploy_dir,
        engine=engine,
        as_of=None,
        as_json=as_json,
    )


def register(app: typer.Typer) -> None:
    """Add the rolling commands to the main app."""
    app.command("upgrade", cls=Command)(upgrade_cmd)
    app.command("rollback", cls=Command)(rollback_cmd)
