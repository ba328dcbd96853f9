"""`gpuforge cost SPEC`: hourly and monthly cost per pool, per region and in total.

Each pool is priced on-demand, on spot and on the spec's market. Prices come from the lock when
it matches the spec (so a report stays the same when the catalog moves), else from the catalog.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from gpuforge.check import HOURS_PER_MONTH, CheckContext, Lock, PoolPrice, inputs_digest
from gpuforge.check import pool_prices as catalog_prices
from gpuforge.cost._schedule import ScheduleSaving, schedule_savings

MARKETS = ("on-demand", "spot", "market")


@dataclass(frozen=True)
class PoolCost:
    """One pool's prices and where they came from (`lock` or `catalog`)."""

    price: PoolPrice
    source: str

    def hourly(self, market: str) -> float | None:
        """Hourly USD for the pool on `market` ("market" = the spec's own market)."""
        return self.price.hourly(None if market == "market" else market)

    def to_data(self) -> dict[str, Any]:
        """Plain data for `--json`."""
        hourly = {m: self.hourly(m) for m in MARKETS}
        return {
            **self.price.to_data(),
            "nodes": self.price.nodes,
            "gpus": self.price.nodes * self.price.gpus_per_node,
            "market": self.price.market,
            "prices_from": self.source,
            "node_usd_per_hour": {"on-demand": self.price.on_demand, "spot": self.price.spot},
            "usd_per_hour": hourly,
            "usd_per_month": {m: _month(v) for m, v in hourly.items()},
        }


@dataclass
class CostReport:
    """The whole cluster's cost: pools, regions, totals, budget, and the snapshot used."""

    cluster: str
    snapshot: str
    snapshot_data: dict[str, Any]
    pools: dict[str, PoolCost]
    budget_usd_per_hour: float | None
    savings: dict[str, ScheduleSaving] = field(default_factory=dict)

    def total(self, market: str) -> float:
        """Total hourly USD of every priced pool on `market`."""
        return sum(v for c in self.pools.values() if (v := c.hourly(market)) is not None)

    def regions(self) -> dict[str, dict[str, float]]:
        """Hourly USD per `provider/region` and market."""
        out: dict[str, dict[str, float]] = {}
        for cost in self.pools.values():
            if not cost.price.priced:
                continue
            key = f"{cost.price.provider}/{cost.price.region}"
            row = out.setdefault(key, dict.fromkeys(MARKETS, 0.0))
            for market in MARKETS:
                row[market] += cost.hourly(market) or 0.0
        return dict(sorted(out.items()))

    @property
    def over_budget(self) -> bool:
        """Whether the spec's market total exceeds `cost.budget_usd_per_hour`."""
        budget = self.budget_usd_per_hour
        return budget is not None and self.total("market") > budget

    def to_data(self) -> dict[str, Any]:
        """Plain data for `--json`."""
        totals = {m: self.total(m) for m in MARKETS}
        saved = sum(s.usd_per_month or 0.0 for s in self.savings.values())
        return {
            "cluster": self.cluster,
            "prices": self.snapshot,
            "price_snapshot": self.snapshot_data,
            "pools": {name: c.to_data() for name, c in self.pools.items()},
            "regions": self.regions(),
            "usd_per_hour": totals,
            "usd_per_month": {m: _month(v) for m, v in totals.items()},
            "budget_usd_per_hour": self.budget_usd_per_hour,
            "over_budget": self.over_budget,
            "schedules": {
                name: {
                    "node_hours_per_week": round(s.node_hours_per_week, 2),
                    "without_schedule_node_hours_per_week": s.full_node_hours_per_week,
                    "saved_share": round(s.share, 4),
                    "saved_usd_per_month": s.usd_per_month,
                }
                for name, s in self.savings.items()
            },
            "usd_per_month_with_schedules": round(totals["market"] * HOURS_PER_MONTH - saved, 2),
        }


def _month(hourly: float | None) -> float | None:
    return None if hourly is None else round(hourly * HOURS_PER_MONTH, 2)


def cost_report(ctx: CheckContext, lock: Lock | None) -> CostReport:
    """Price every pool, from the lock's pinned prices when the lock matches the spec."""
    spec = ctx.doc.spec
    current = catalog_prices(ctx)
    pinned = lock.prices if lock and lock.digest == inputs_digest(spec) else {}
    pools: dict[str, PoolCost] = {}
    for name, price in current.items():
        locked = pinned.get(name)
        if locked is not None:
            merged = dataclasses.replace(
                locked, nodes=price.nodes, market=price.market, gpus_per_node=price.gpus_per_node
            )
            pools[name] = PoolCost(merged, "lock")
        else:
            pools[name] = PoolCost(price, "catalog")
    snapshot = ctx.catalog.prices
    text, data = snapshot.describe(), snapshot.to_data()
    if lock is not None and pinned and lock.price_snapshot:
        data = lock.price_snapshot
        entries = [v for v in data.values() if isinstance(v, dict)]
        dates = sorted({str(v.get("date")) for v in entries})
        sources = sorted({str(v.get("source")) for v in entries})
        text = f"prices: pinned in the lock, snapshot {', '.join(dates)}; source: "
        text += "; ".join(sources)
    report = CostReport(spec.name, text, data, pools, spec.cost.budget_usd_per_hour)
    report.savings = schedule_savings(spec, {n: c.price for n, c in pools.items()})
    return report
