"""What `cost.schedule` saves: the week simulated minute by minute with the same start and end
actions the clouds are given, priced at the pool's market price per node-hour."""

from __future__ import annotations

from dataclasses import dataclass

from gpuforge.check import HOURS_PER_MONTH, PoolPrice
from gpuforge.spec import MINUTES_PER_WEEK, ClusterSpec, nodes_by_minute

HOURS_PER_WEEK = MINUTES_PER_WEEK / 60


@dataclass(frozen=True)
class ScheduleSaving:
    """A pool's scheduled node-hours against running `count` nodes all week, and the money."""

    pool: str
    node_hours_per_week: float
    full_node_hours_per_week: float
    usd_per_month: float | None

    @property
    def share(self) -> float:
        """Fraction of node-hours the schedule removes (negative when it adds nodes)."""
        full = self.full_node_hours_per_week
        return 0.0 if full == 0 else 1 - self.node_hours_per_week / full


def schedule_savings(spec: ClusterSpec, prices: dict[str, PoolPrice]) -> dict[str, ScheduleSaving]:
    """Savings per pool that has schedule windows (None money where the pool has no price)."""
    found: dict[str, ScheduleSaving] = {}
    for name, pool in spec.pools.items():
        actions = spec.cost.actions(name, pool.count)
        if not actions:
            continue
        hours = sum(nodes_by_minute(actions, pool.count)) / 60
        full = pool.count * HOURS_PER_WEEK
        node = prices[name].node_hourly(pool.market) if name in prices else None
        money = None
        if node is not None:
            money = round((full - hours) * node * HOURS_PER_MONTH / HOURS_PER_WEEK, 2)
        found[name] = ScheduleSaving(name, hours, full, money)
    return found
