"""`gpuforge check`, `lock`, `schema` and `catalog`: the offline commands on a spec."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gpuforge.catalog import load_catalog
from gpuforge.check import (
    RULES,
    LockConflicts,
    lock_path,
    make_context,
    read_lock_text,
    repo_for,
    run_checks,
    solve_lock,
    write_lock,
)
from gpuforge.cli._command import Command, Group
from gpuforge.cli._output import Exit, console, emit_json, emit_result, handled
from gpuforge.desired import DRIFT_CODES
from gpuforge.errors import InputError, Problem
from gpuforge.spec import json_schema, load_spec
from gpuforge.validate import NODE_RULES

SpecArg = Annotated[Path, typer.Argument(help="The cluster spec (YAML).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Judge end-of-life as of this date (YYYY-MM-DD); default today."),
]
SkipOpt = Annotated[
    list[str] | None, typer.Option("--skip", help="Finding code to leave out (repeatable).")
]
RepoOpt = Annotated[
    str | None,
    typer.Option(
        "--repo",
        help="The APT repository the nodes install from: a Packages file, a folder holding one, "
        "or a flat repository's URL. Pins only versions it offers; default: the spec's "
        "software.repository_url, else the built-in catalog.",
    ),
]
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def parse_as_of(text: str | None) -> date:
    """Parse `--as-of`, defaulting to today; InputError for a malformed date."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of {text!r} is not a date", "write it as YYYY-MM-DD") from None


def check_cmd(
    spec: SpecArg,
    skip: SkipOpt = None,
    as_of: AsOfOpt = None,
    repo: RepoOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a spec against the catalog: stack, MIG, power, network, cloud, security, lock."""
    with handled(as_json):
        doc = load_spec(spec)
        ctx = make_context(doc, parse_as_of(as_of), read_lock_text(spec), repo_for(doc, repo))
        findings = run_checks(ctx, set(skip or ()))
    errors = sum(1 for f in findings if f.severity == "error")
    if as_json:
        emit_result(
            Exit.FINDINGS if errors else Exit.OK, {"findings": [f.to_dict() for f in findings]}
        )
    else:
        for finding in findings:
            style = _SEVERITY_STYLE[finding.severity]
            console.print(
                f"[{style}]{finding.severity:7}[/] [bold]{finding.code}[/] "
                f"{finding.location}: {finding.message}",
                highlight=False,
                soft_wrap=True,
            )
            console.print(
                f"          [cyan]To fix:[/] {finding.fix}", highlight=False, soft_wrap=True
            )
        warnings = sum(1 for f in findings if f.severity == "warning")
        verdict = "[bold red]failed[/]" if errors else "[bold green]passed[/]"
        console.print(f"check {verdict}: {errors} error(s), {warnings} warning(s)")
    raise typer.Exit(Exit.FINDINGS if errors else Exit.OK)


def lock_cmd(
    spec: SpecArg,
    as_of: AsOfOpt = None,
    repo: RepoOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pin the newest compatible driver/CUDA/cuDNN/NCCL stack per pool into `<spec>.lock`."""
    with handled(as_json):
        doc = load_spec(spec)
        ctx = make_context(doc, parse_as_of(as_of), repo=repo_for(doc, repo))
        try:
            lock = solve_lock(ctx)
        except LockConflicts as error:
            problems = [
                Problem(
                    doc.locate(*ctx.software_path(pool, c.field.split(".")[-1]))
                    if c.field.startswith("software.")
                    else doc.locate("pools", pool),
                    f"pool {pool}: {c.message} [{c.code}]",
                    c.fix,
                )
                for pool, items in error.conflicts.items()
                for c in items
            ]
            if as_json:
                emit_result(Exit.FINDINGS, {"problems": [p.to_dict() for p in problems]})
            else:
                for problem in problems:
                    console.print(
                        f"[bold red]no stack[/] {problem.location}: {problem.message}",
                        highlight=False,
                        soft_wrap=True,
                    )
                    console.print(
                        f"  [cyan]To fix:[/] {problem.fix}", highlight=False, soft_wrap=True
                    )
            raise typer.Exit(Exit.FINDINGS) from None
        target = lock_path(spec)
        write_lock(target, lock)
    if as_json:
        emit_result(Exit.OK, {"lock": str(target), **lock.to_data()})
        return
    table = Table(title=f"{target}")
    for column in ("pool", "GPU", "driver", "modules", "CUDA", "cuDNN", "NCCL"):
        table.add_column(column)
    for name, entry in lock.pools.items():
        s = entry.stack
        table.add_row(
            name,
            f"{entry.gpus_per_node} x {entry.gpu}",
            s.driver,
            s.driver_modules,
            s.cuda,
            s.cudnn or "-",
            s.nccl,
        )
    console.print(table)


def schema_cmd(as_json: JsonOpt = False) -> None:
    """Print the JSON Schema of the spec (point your editor's YAML support at it)."""
    if as_json:
        emit_result(Exit.OK, {"schema": json_schema()})
    else:
        emit_json(json_schema())


catalog_app = typer.Typer(cls=Group, help="Browse the built-in knowledge.", no_args_is_help=True)


@catalog_app.command("gpus", cls=Command)
def catalog_gpus(as_json: JsonOpt = False) -> None:
    """GPU models: architecture, memory, power range, NVLink, MIG, minimum CUDA."""
    catalog = load_catalog()
    if as_json:
        emit_result(Exit.OK, [g.model_dump(mode="json") for g in catalog.gpus.values()])
        return
    table = Table(title="GPUs")
    for column in ("model", "arch", "CC", "memory", "power W", "NVLink", "MIG", "min CUDA"):
        table.add_column(column)
    for gpu in catalog.gpus.values():
        table.add_row(
            gpu.name,
            gpu.architecture,
            gpu.compute_capability,
            f"{gpu.memory_mib} MiB",
            f"{gpu.power.min:g}-{gpu.power.max:g}",
            gpu.nvlink.label if gpu.nvlink else "-",
            str(len(gpu.mig.profiles)) + " profiles" if gpu.mig else "-",
            gpu.min_cuda or "-",
        )
    console.print(table)


@catalog_app.command("instances", cls=Command)
def catalog_instances(
    cloud: Annotated[str | None, typer.Option(help="aws, azure or gcp")] = None,
    gpu: Annotated[str | None, typer.Option(help="only this GPU model")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Cloud GPU instance types with EFA/InfiniBand, NVMe, and regions (price snapshot)."""
    catalog = load_catalog()
    wanted_gpu = catalog.resolve_gpu_name(gpu) if gpu else None
    rows = [
        it
        for (c, _), it in sorted(catalog.instances.items())
        if (cloud is None or c == cloud) and (gpu is None or it.gpu == wanted_gpu)
    ]
    if as_json:
        emit_result(Exit.OK, [it.model_dump(mode="json") for it in rows])
        return
    table = Table(title="Instance types (prices: snapshot 2026-11-28, USD/h, cheapest region)")
    for column in ("cloud", "type", "GPUs", "EFA/IB", "NVMe GB", "regions", "on-demand", "spot"):
        table.add_column(column)
    for it in rows:
        od = [r.on_demand for r in it.regions.values() if r.on_demand]
        spot = [r.spot for r in it.regions.values() if r.spot]
        table.add_row(
            it.cloud,
            it.name,
            f"{it.gpus} x {it.gpu or it.gpu_label or '?'}",
            str(it.efa) if it.efa else (it.infiniband or "-"),
            str(it.nvme_gb or "-"),
            str(len(it.regions)),
            f"{min(od):.2f}" if od else "-",
            f"{min(spot):.2f}" if spot else "-",
        )
    console.print(table)


@catalog_app.command("stacks", cls=Command)
def catalog_stacks(as_json: JsonOpt = False) -> None:
    """Driver branches, CUDA releases with their driver floors, NCCL and cuDNN builds."""
    catalog = load_catalog()
    if as_json:
        emit_result(
            Exit.OK,
            {
                "branches": [b.model_dump(mode="json") for b in catalog.branches.values()],
                "drivers": [str(d.version) for d in catalog.drivers],
                "cuda": [
                    {"version": str(c.version), "min_driver": str(c.min_driver)}
                    for c in catalog.cuda
                ],
                "nccl": [{"version": str(n.version), "cuda": list(n.cuda)} for n in catalog.nccl],
                "cudnn": [
                    json.loads(c.model_dump_json(exclude={"version"})) | {"version": str(c.version)}
                    for c in catalog.cudnn
                ],
            },
        )
        return
    branches = Table(title="Driver branches")
    for column in ("branch", "type", "end of life", "releases"):
        branches.add_column(column)
    for name, info in catalog.branches.items():
        releases = ", ".join(str(d.version) for d in catalog.branch_releases(name))
        branches.add_row(f"R{name}", info.type, str(info.eol or "not announced"), releases or "-")
    console.print(branches)
    cuda = Table(title="CUDA -> minimum driver")
    cuda.add_column("CUDA")
    cuda.add_column("min driver")
    for release in catalog.cuda:
        cuda.add_row(str(release.version), str(release.min_driver))
    console.print(cuda)
    nccl = Table(title="NCCL builds")
    nccl.add_column("NCCL")
    nccl.add_column("CUDA builds")
    for n in catalog.nccl:
        nccl.add_row(str(n.version), ", ".join(n.cuda))
    console.print(nccl)


def rules_cmd(as_json: JsonOpt = False) -> None:
    """List every rule (check, validation and drift) with its code, default severity and title."""
    rows = [(r.code, str(r.severity), r.title) for r in RULES.values()]
    rows += [(r.code, "per finding", r.title) for r in NODE_RULES.values()]
    rows += [(c.code, "error", c.title) for c in DRIFT_CODES.values()]
    if as_json:
        emit_result(Exit.OK, [{"code": c, "severity": s, "title": t} for c, s, t in rows])
        return
    table = Table(title="Rules")
    for column in ("code", "severity", "title"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the spec commands to the main app."""
    app.command("check", cls=Command)(check_cmd)
    app.command("lock", cls=Command)(lock_cmd)
    app.command("schema", cls=Command)(schema_cmd)
    app.command("rules", cls=Command)(rules_cmd)
    app.add_typer(catalog_app, name="catalog")
