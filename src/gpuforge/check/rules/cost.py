"""GF-COST: the spec's budget holds at catalog prices before anything is created."""

from __future__ import annotations

from collections.abc import Iterator

from gpuforge.check._context import CheckContext
from gpuforge.check._pricing import pool_prices
from gpuforge.check._registry import Hit, rule
from gpuforge.providers import provider_for
from gpuforge.spec import scaling_actions


@rule("GF-COST-001", "hourly cost above the budget", "error")
def over_budget(ctx: CheckContext) -> Iterator[Hit]:
    """The worst hourly cost (spot-with-fallback counted on-demand) must fit the budget."""
    budget = ctx.doc.spec.cost.budget_usd_per_hour
    if budget is None:
        return
    prices = pool_prices(ctx)
    parts = {name: p.worst_hourly() for name, p in prices.items()}
    total = sum(v for v in parts.values() if v is not None)
    if total <= budget:
        return
    biggest = max((n for n, v in parts.items() if v is not None), key=lambda n: parts[n] or 0.0)
    yield Hit(
        f"the cluster costs up to {total:,.2f} USD/h ({ctx.catalog.prices.describe()}), above "
        f"the budget of {budget:,.2f} USD/h; the largest pool is {biggest} "
        f"({parts[biggest] or 0.0:,.2f} USD/h)",
        "lower counts, use spot, run `gpuforge cost optimize`, or raise cost.budget_usd_per_hour",
        ("cost", "budget_usd_per_hour"),
    )


@rule("GF-COST-002", "budget set but a pool has no price", "warning")
def unpriced_under_budget(ctx: CheckContext) -> Iterator[Hit]:
    """A cloud pool the snapshot cannot price is left out of the budget sum: say so."""
    if ctx.doc.spec.cost.budget_usd_per_hour is None:
        return
    for name, price in pool_prices(ctx).items():
        if provider_for(price.provider).has_market and price.worst_hourly() is None:
            yield Hit(
                f"pool {name}: no {price.market} price for {price.instance_type or 'its GPUs'} "
                f"in {price.region}, so the budget check leaves it out",
                "choose an instance type and region the snapshot prices "
                "(`gpuforge catalog prices`), or load a newer snapshot",
                ("pools", name),
                name,
            )


@rule("GF-COST-003", "cost section names a pool the spec does not have", "error")
def unknown_cost_pool(ctx: CheckContext) -> Iterator[Hit]:
    """Schedule windows and optimizer requirements apply to pools by name; a typo does nothing."""
    spec = ctx.doc.spec
    known = ", ".join(spec.pools)
    for index, window in enumerate(spec.cost.schedule):
        if window.pool not in spec.pools:
            yield Hit(
                f"schedule window {index} scales pool {window.pool!r}, which does not exist",
                f"use one of: {known}",
                ("cost", "schedule", index, "pool"),
            )
    for name in spec.cost.optimize.pools:
        if name not in spec.pools:
            yield Hit(
                f"cost.optimize names pool {name!r}, which does not exist",
                f"use one of: {known}",
                ("cost", "optimize", "pools", name),
            )


@rule("GF-COST-004", "schedule the target's scaling cannot express", "error")
def schedule_shape(ctx: CheckContext) -> Iterator[Hit]:
    """Each target renders windows with its own mechanism; Azure's autoscale profiles, for one,
    start at one hour and minute on their days."""
    spec = ctx.doc.spec
    for index, window in enumerate(spec.cost.schedule):
        pool = spec.pools.get(window.pool)
        if pool is None:
            continue
        actions = scaling_actions([(window.start, window.end, window.count)], pool.count)
        problem = provider_for(spec.pool_target(pool)).schedule_problem(actions)
        if problem is not None:
            yield Hit(
                f"pool {window.pool}: {problem}",
                "give the window one hour and one minute (e.g. '0 20 * * mon-fri'), or split "
                "it into several windows",
                ("cost", "schedule", index),
                window.pool,
            )


@rule("GF-COST-005", "schedule on a target that cannot scale on a timer yet", "warning")
def schedule_not_rendered(ctx: CheckContext) -> Iterator[Hit]:
    """AWS (scheduled actions) and Azure (autoscale profiles) render schedules. GCP pools are
    single instances, and on-prem, vSphere and local pools need `gpuforge scale`, which does not
    exist yet: there the window only counts in `gpuforge cost`'s savings estimate."""
    spec = ctx.doc.spec
    for index, window in enumerate(spec.cost.schedule):
        pool = spec.pools.get(window.pool)
        if pool is None:
            continue
        target = spec.pool_target(pool)
        provider = provider_for(target)
        if provider.schedules is not None:
            continue
        yield Hit(
            f"pool {window.pool} on {target}: the schedule is not rendered "
            f"({provider.schedule_gap}); it only counts in `gpuforge cost`'s savings estimate",
            "scale the pool with your own scheduler for now, or move it to AWS or Azure",
            ("cost", "schedule", index),
            window.pool,
        )
