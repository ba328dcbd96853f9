"""What one node of each pool costs an hour: the instance type it runs on and its prices.

Computed once from the spec and the catalog, read by the budget rule, pinned in the lock and
reported by `gpuforge cost`. Targets without a market (local, onprem, vsphere) have no price.
"""

from __future__ import annotations

from dataclasses import dataclass

from gpuforge.check._context import CheckContext, PoolFacts

HOURS_PER_MONTH = 730.0


@dataclass(frozen=True)
class PoolPrice:
    """Hourly USD prices of one node of a pool, and where they came from."""

    pool: str
    provider: str
    region: str
    instance_type: str | None
    nodes: int
    gpus_per_node: int
    market: str
    on_demand: float | None
    spot: float | None

    @property
    def priced(self) -> bool:
        """Whether any price is known (clouds only, and only where the snapshot has one)."""
        return self.on_demand is not None or self.spot is not None

    def node_hourly(self, market: str) -> float | None:
        """One node's hourly price on `market`; spot-with-fallback is billed at spot."""
        if market == "on-demand":
            return self.on_demand
        return self.spot if self.spot is not None else self.on_demand

    def hourly(self, market: str | None = None) -> float | None:
        """The pool's hourly price on `market` (default: the spec's market)."""
        price = self.node_hourly(market or self.market)
        return None if price is None else price * self.nodes

    def worst_hourly(self) -> float | None:
        """The most the pool can cost an hour: spot-with-fallback may all run on-demand."""
        if self.market == "spot-with-fallback":
            candidates = [p for p in (self.on_demand, self.spot) if p is not None]
            return max(candidates) * self.nodes if candidates else None
        return self.hourly()

    def to_data(self) -> dict[str, object]:
        """Plain data for the lock and JSON output."""
        return {
            "provider": self.provider,
            "region": self.region,
            "instance_type": self.instance_type,
            "on_demand": self.on_demand,
            "spot": self.spot,
        }


def pool_price(ctx: CheckContext, facts: PoolFacts) -> PoolPrice:
    """Price one pool: its instance type (or the cheapest carrying its GPUs) in its region."""
    provider, region = facts.target.provider, facts.target.location
    instance = facts.instance
    pool = facts.pool
    if instance is None and pool.gpu is not None and not pool.instance_type:
        options = facts.provider.instances_for(ctx.catalog, pool.gpu.model, pool.gpu.count, region)
        instance = options[0] if options else None
    offer = instance.regions.get(region) if instance is not None else None
    return PoolPrice(
        pool=facts.name,
        provider=provider,
        region=region,
        instance_type=instance.name if instance is not None else pool.instance_type,
        nodes=pool.count,
        gpus_per_node=facts.gpus_per_node,
        market=pool.market,
        on_demand=offer.on_demand if offer else None,
        spot=offer.spot if offer else None,
    )


def pool_prices(ctx: CheckContext) -> dict[str, PoolPrice]:
    """Every pool's price, in spec order."""
    return {name: pool_price(ctx, facts) for name, facts in ctx.pools.items()}
