"""GF-NET: EFA, InfiniBand and placement must match what the cloud and instance offer."""

from __future__ import annotations

from collections.abc import Iterator

from gpuforge.check._context import CheckContext
from gpuforge.check._registry import Hit, rule


@rule("GF-NET-001", "EFA without a cluster placement group", "warning")
def efa_without_placement(ctx: CheckContext) -> Iterator[Hit]:
    """EFA's low latency needs the instances packed close: a cluster placement group."""
    for name, facts in ctx.pools.items():
        pool = facts.pool
        if pool.network.efa and pool.placement_group is False:
            yield Hit(
                f"pool {name}: EFA is enabled without a cluster placement group",
                "set placement_group: true for this pool",
                ("pools", name, "placement_group"),
                name,
            )


@rule("GF-NET-002", "EFA on an instance type without EFA", "error")
def efa_unsupported(ctx: CheckContext) -> Iterator[Hit]:
    """Only some instance types have EFA interfaces (p4d: 4, p5: 32, ...)."""
    for name, facts in ctx.pools.items():
        if not facts.pool.network.efa:
            continue
        problem = facts.provider.efa_problem(facts.target, facts.instance)
        if problem is not None:
            yield Hit(
                f"pool {name}: {problem.message}",
                problem.fix,
                ("pools", name, "network", "efa"),
                name,
            )


@rule("GF-NET-003", "InfiniBand where the cloud offers none", "error")
def infiniband_unavailable(ctx: CheckContext) -> Iterator[Hit]:
    """AWS and GCP offer no InfiniBand; Azure only on its ND/H-series sizes."""
    if ctx.doc.spec.fabric.type != "infiniband":
        return
    for name, facts in ctx.pools.items():
        problem = facts.provider.fabric_problem("infiniband", facts.instance)
        if problem is not None:
            yield Hit(
                f"pool {name}: {problem.message}",
                problem.fix,
                ("pools", name, "instance_type") if problem.instance else ("fabric", "type"),
                name,
            )


@rule("GF-NET-004", "EFA fabric but a pool without EFA", "warning")
def efa_fabric_pool(ctx: CheckContext) -> Iterator[Hit]:
    """With fabric efa, AWS GPU pools that leave EFA off fall back to TCP for NCCL."""
    if ctx.doc.spec.fabric.type != "efa":
        return
    for name, facts in ctx.pools.items():
        has_efa = facts.instance is not None and facts.instance.efa > 0
        if has_efa and not facts.pool.network.efa:
            yield Hit(
                f"pool {name}: fabric is efa but the pool has network.efa off",
                "set network: {efa: true} on this pool",
                ("pools", name, "network"),
                name,
            )


@rule("GF-NET-005", "placement group on an instance type without placement", "warning")
def placement_unsupported(ctx: CheckContext) -> Iterator[Hit]:
    """Some small shapes (GCP G2) do not support compact placement policies."""
    for name, facts in ctx.pools.items():
        instance = facts.instance
        if facts.pool.placement_group and instance is not None and not instance.placement:
            yield Hit(
                f"pool {name}: {instance.name} does not support placement groups",
                "set placement_group: false for this pool",
                ("pools", name, "placement_group"),
                name,
            )
        if facts.pool.placement_group and not facts.provider.has_market:
            yield Hit(
                f"pool {name}: placement groups apply only to clouds ({facts.target} ignores it)",
                "remove placement_group for this pool",
                ("pools", name, "placement_group"),
                name,
                "info",
            )
