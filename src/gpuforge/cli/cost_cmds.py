"""`gpuforge cost` (report, optimize, rightsize) and `gpuforge catalog prices`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from gpuforge.catalog import Catalog, load_catalog, load_price_file
from gpuforge.check import CheckContext, Lock, lock_path, read_lock, run_checks
from gpuforge.cli._command import Command, Group
from gpuforge.cli._output import Exit, console, emit_result, handled
from gpuforge.cli.spec_cmds import JsonOpt, SpecArg, catalog_app
from gpuforge.cost import (
    MARKETS,
    Advice,
    CostReport,
    Plan,
    cost_report,
    load_gpu_series,
    optimised_spec,
    optimize,
    rightsize,
)
from gpuforge.errors import InputError
from gpuforge.files import MIB, read_text, write_atomic
from gpuforge.providers import clouds
from gpuforge.spec import load_spec

PricesOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--prices",
        help="A newer price snapshot CSV (one cloud, the shipped column order); repeatable.",
    ),
]
PricesDateOpt = Annotated[
    str | None,
    typer.Option("--prices-date", help="Date of the --prices files (YYYY-MM-DD); default mtime."),
]
FreshOpt = Annotated[
    bool, typer.Option("--fresh", help="Price from the catalog even where the lock pins prices.")
]


class _CostGroup(Group):
    """`gpuforge cost SPEC` runs the report; `gpuforge cost optimize SPEC` a subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Route a first positional that is not a subcommand to the `report` command."""
        first = next((a for a in args if not a.startswith("-")), None)
        if first is not None and first not in self.commands:
            args = ["report", *args]
        return super().parse_args(ctx, args)


cost_app = typer.Typer(
    cls=_CostGroup,
    help="What the cluster costs, the cheapest placement, right-sizing. `gpuforge cost SPEC`.",
    no_args_is_help=True,
)


def catalog_with(prices: list[Path] | None, prices_date: str | None) -> Catalog:
    """The catalog, with newer price files loaded over the shipped snapshot."""
    catalog = load_catalog()
    if not prices:
        return catalog
    taken = None
    if prices_date is not None:
        try:
            taken = date.fromisoformat(prices_date)
        except ValueError:
            raise InputError(
                f"--prices-date {prices_date!r} is not a date", "write it as YYYY-MM-DD"
            ) from None
    snapshot = catalog.prices
    for path in prices:
        snapshot = load_price_file(snapshot, path, taken)
    return catalog.with_prices(snapshot)


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def spec_context(spec: Path, catalog: Catalog) -> CheckContext:
    """Load a spec into a check context over `catalog`."""
    return CheckContext(doc=load_spec(spec), catalog=catalog, as_of=date.today())


def spec_lock(spec: Path) -> Lock | None:
    """The spec's lock when one lies next to it."""
    path = lock_path(spec)
    return read_lock(path) if path.exists() else None


def _print_report(report: CostReport) -> None:
    table = Table(title=f"cost of {report.cluster} (USD)", title_justify="left")
    for column in (
        "pool",
        "target",
        "instance",
        "nodes",
        "market",
        "on-demand /h",
        "spot /h",
        "market /h",
        "market /month",
        "prices",
    ):
        table.add_column(column)
    for name, cost in report.pools.items():
        p = cost.price
        market_h = cost.hourly("market")
        table.add_row(
            name,
            f"{p.provider}/{p.region}" if p.region else p.provider,
            p.instance_type or "-",
            str(p.nodes),
            p.market,
            _money(cost.hourly("on-demand")),
            _money(cost.hourly("spot")),
            _money(market_h),
            _money(None if market_h is None else market_h * 730),
            cost.source if p.priced else "none",
        )
    data = report.to_data()
    totals, months = data["usd_per_hour"], data["usd_per_month"]
    table.add_row(
        "total",
        "",
        "",
        "",
        "",
        _money(totals["on-demand"]),
        _money(totals["spot"]),
        _money(totals["market"]),
        _money(months["market"]),
        "",
    )
    console.print(table)
    regions = Table(title="per region (USD/h)", title_justify="left")
    for column in ("region", *MARKETS):
        regions.add_column(column)
    for region, row in report.regions().items():
        regions.add_row(region, *(_money(row[m]) for m in MARKETS))
    console.print(regions)
    for pool, saving in report.savings.items():
        console.print(
            f"schedule of {pool}: {saving.node_hours_per_week:,.0f} of "
            f"{saving.full_node_hours_per_week:,.0f} node-hours a week ({saving.share:.0%} fewer), "
            f"about {_money(saving.usd_per_month)} USD/month saved",
            highlight=False,
        )
    if report.budget_usd_per_hour is not None:
        verdict = "[bold red]over[/]" if report.over_budget else "[green]within[/]"
        console.print(
            f"budget {report.budget_usd_per_hour:,.2f} USD/h: {verdict} "
            f"({_money(totals['market'])} USD/h on the spec's markets)"
        )
    console.print(report.snapshot, highlight=False, soft_wrap=True)


@cost_app.command("report", cls=Command)
def cost_cmd(
    spec: SpecArg,
    prices: PricesOpt = None,
    prices_date: PricesDateOpt = None,
    fresh: FreshOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Hourly and monthly cost per pool, per region and in total (exit 1 over budget)."""
    with handled(as_json):
        ctx = spec_context(spec, catalog_with(prices, prices_date))
        lock = None if fresh or prices else spec_lock(spec)
        report = cost_report(ctx, lock)
    if as_json:
        emit_result(Exit.FINDINGS if report.over_budget else Exit.OK, report.to_data())
    else:
        _print_report(report)
    raise typer.Exit(Exit.FINDINGS if report.over_budget else Exit.OK)


def _print_plan(plan: Plan, snapshot: str) -> None:
    table = Table(title="cheapest placement (USD)", title_justify="left")
    for column in ("pool", "target", "instance", "nodes", "GPUs", "market", "/h"):
        table.add_column(column)
    for name, pool_plan in plan.pools.items():
        for placement in pool_plan.placements:
            o = placement.option
            table.add_row(
                name,
                o.place,
                o.instance_type,
                str(placement.nodes),
                f"{placement.nodes * o.gpus} x {o.gpu}",
                o.market,
                _money(placement.usd_per_hour),
            )
    console.print(table)
    for name, pool_plan in plan.pools.items():
        if pool_plan.problem:
            console.print(f"[bold red]{name}[/]: {pool_plan.problem}", highlight=False)
            continue
        console.print(
            f"[bold]{name}[/]: {_money(pool_plan.spec_usd_per_hour)} USD/h as specified -> "
            f"{_money(pool_plan.usd_per_hour)} USD/h",
            highlight=False,
        )
        for line in pool_plan.binding:
            console.print(f"  binding: {line}", highlight=False, soft_wrap=True)
    for name, reason in plan.kept.items():
        console.print(f"{name}: kept ({reason})", highlight=False)
    saving = plan.spec_total() - plan.total()
    console.print(
        f"total {_money(plan.total())} USD/h, {_money(plan.total() * 730)} USD/month; saving "
        f"{_money(saving)} USD/h ({_money(saving * 730)} USD/month) against the spec",
        highlight=False,
    )
    console.print(snapshot, highlight=False, soft_wrap=True)


@cost_app.command("optimize", cls=Command)
def optimize_cmd(
    spec: SpecArg,
    cloud: Annotated[
        list[str] | None, typer.Option("--cloud", help="Allowed cloud (repeatable).")
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="Allowed region (repeatable); '*' allows every region."),
    ] = None,
    write: Annotated[
        Path | None, typer.Option("--write", help="Write the optimised spec to this file.")
    ] = None,
    prices: PricesOpt = None,
    prices_date: PricesDateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The cheapest placement meeting every pool's requirements (exact, MILP via HiGHS)."""
    with handled(as_json):
        for name in cloud or ():
            if name not in clouds():
                raise InputError(f"--cloud {name!r} is not a cloud", f"use {', '.join(clouds())}")
        catalog = catalog_with(prices, prices_date)
        ctx = spec_context(spec, catalog)
        plan = optimize(ctx, cloud, region)
        written: dict[str, Any] | None = None
        if write is not None:
            source = read_text(spec, max_bytes=4 * MIB, fix="pass the spec file")
            write_atomic(write, optimised_spec(source, ctx.doc, plan))
            findings = run_checks(CheckContext(load_spec(write), catalog, date.today()))
            written = {
                "path": str(write),
                "errors": sum(1 for f in findings if f.severity == "error"),
                "warnings": sum(1 for f in findings if f.severity == "warning"),
            }
    failed = any(p.problem for p in plan.pools.values())
    if as_json:
        emit_result(
            Exit.FINDINGS if failed else Exit.OK,
            {
                "pools": {name: p.to_data() for name, p in plan.pools.items()},
                "kept": plan.kept,
                "usd_per_hour": plan.total(),
                "spec_usd_per_hour": plan.spec_total(),
                "saving_usd_per_hour": plan.spec_total() - plan.total(),
                "prices": catalog.prices.describe(),
                "written": written,
            },
        )
    else:
        _print_plan(plan, catalog.prices.describe())
        if written is not None:
            console.print(
                f"wrote {written['path']} (check: {written['errors']} error(s), "
                f"{written['warnings']} warning(s))",
                highlight=False,
            )
    raise typer.Exit(Exit.FINDINGS if failed else Exit.OK)


def _print_advice(advice: dict[str, Advice], unmatched: list[str], snapshot: str) -> None:
    table = Table(title="right-sizing (USD)", title_justify="left")
    for column in (
        "pool",
        "action",
        "now",
        "recommended",
        "now /h",
        "then /h",
        "saved /month",
        "util p50/p95",
        "memory p95",
    ):
        table.add_column(column)
    for name, a in advice.items():
        e = a.evidence
        table.add_row(
            name,
            a.action,
            f"{a.nodes} x {a.instance_type or '-'}",
            f"{a.new_nodes} x {a.new_instance_type or '-'}",
            _money(a.usd_per_hour),
            _money(a.new_usd_per_hour),
            _money(a.saving_per_month),
            f"{e.util_p50:g}/{e.util_p95:g} %" if e else "-",
            f"{e.memory_p95_mib:,.0f} MiB" if e else "-",
        )
    console.print(table)
    for name, a in advice.items():
        console.print(f"[bold]{name}[/]: {a.reason}", highlight=False, soft_wrap=True)
        if a.evidence is not None:
            e = a.evidence
            window = "unknown window" if e.window_hours is None else f"{e.window_hours:g} h"
            console.print(
                f"  evidence: {e.gpus} GPUs on {len(e.hosts)} nodes, {e.samples} samples over "
                f"{window}; utilisation max {e.util_max:g} %",
                highlight=False,
            )
        for alternative in a.alternatives:
            console.print(f"  alternative: {alternative}", highlight=False)
    if unmatched:
        console.print(f"hosts of no pool: {', '.join(unmatched)}", highlight=False)
    console.print(snapshot, highlight=False, soft_wrap=True)


@cost_app.command("rightsize", cls=Command)
def rightsize_cmd(
    spec: SpecArg,
    metrics: Annotated[
        Path,
        typer.Option(
            "--metrics",
            help="DCGM exporter metrics: a /metrics text capture (one or more scrapes) or a "
            "Prometheus query JSON answer. Files only: gpuforge does not fetch URLs.",
        ),
    ],
    prices: PricesOpt = None,
    prices_date: PricesDateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Per pool: keep, shrink, grow or a smaller instance type, with money and percentiles."""
    with handled(as_json):
        catalog = catalog_with(prices, prices_date)
        ctx = spec_context(spec, catalog)
        advice, unmatched = rightsize(ctx, load_gpu_series(metrics))
    if as_json:
        emit_result(
            Exit.OK,
            {
                "pools": {name: a.to_data() for name, a in advice.items()},
                "unmatched_hosts": unmatched,
                "prices": catalog.prices.describe(),
            },
        )
        return
    _print_advice(advice, unmatched, catalog.prices.describe())


@catalog_app.command("prices", cls=Command)
def catalog_prices(
    cloud: Annotated[str | None, typer.Option(help="aws, azure or gcp")] = None,
    gpu: Annotated[str | None, typer.Option(help="only this GPU model")] = None,
    region: Annotated[str | None, typer.Option(help="only this region")] = None,
    prices: PricesOpt = None,
    prices_date: PricesDateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hourly prices per instance type and region, with the snapshot's date and source."""
    with handled(as_json):
        catalog = catalog_with(prices, prices_date)
        wanted = catalog.resolve_gpu_name(gpu) if gpu else None
        if gpu and wanted is None:
            raise InputError(f"--gpu {gpu!r} is not a known GPU model", "see `catalog gpus`")
    rows: list[dict[str, Any]] = [
        {
            "cloud": c,
            "instance_type": it.name,
            "gpu": it.gpu or it.gpu_label or None,
            "gpus": it.gpus,
            "region": offer.region,
            "on_demand": offer.on_demand,
            "spot": offer.spot,
        }
        for (c, _), it in sorted(catalog.instances.items())
        if (cloud is None or c == cloud) and (wanted is None or it.gpu == wanted)
        for offer in it.regions.values()
        if region is None or offer.region == region
    ]
    if as_json:
        emit_result(Exit.OK, {"prices": catalog.prices.to_data(), "rows": rows})
        return
    table = Table(title="GPU instance prices (USD/h)", title_justify="left")
    for column in ("cloud", "type", "GPUs", "region", "on-demand", "spot"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["cloud"],
            row["instance_type"],
            f"{row['gpus']} x {row['gpu'] or '?'}",
            row["region"],
            _money(row["on_demand"]),
            _money(row["spot"]),
        )
    console.print(table)
    console.print(catalog.prices.describe(), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the cost commands to the main app (`catalog prices` joins the catalog group)."""
    app.add_typer(cost_app, name="cost")
