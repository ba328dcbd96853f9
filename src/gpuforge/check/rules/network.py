"""GF-NET: EFA, InfiniBand and placement must match what the cloud and instance offer."""

from __future__ import annotations

from collections.abc import Iterator

from gpuforge.check._context import CLOUDS, CheckContext
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
        if facts.target.provider != "aws":
            yield Hit(
                f"pool {name}: EFA exists only on AWS; the pool runs on {facts.target}",
                "remove network.efa, or use fabric infiniband/roce on this target",
                ("pools", name, "network", "efa"),
                name,
            )
        elif facts.instance is not None and facts.instance.efa == 0:
            yield Hit(
                f"pool {name}: {facts.instance.name} has no EFA interface",
                "use an EFA instance type (p4d, p5, p5en, g6e.48xlarge...) or remove network.efa",
                ("pools", name, "network", "efa"),
                name,
            )


@rule("GF-NET-003", "InfiniBand where the cloud offers none", "error")
def infiniband_unavailable(ctx: CheckContext) -> Iterator[Hit]:
    """AWS and GCP offer no InfiniBand; Azure only on its ND/H-series sizes."""
    if ctx.doc.spec.fabric.type != "infiniband":
        return
    for name, facts in ctx.pools.items():
        provider = facts.target.provider
        if provider in ("aws", "gcp"):
            fix = "use fabric type efa" if provider == "aws" else "use fabric type ethernet"
            yield Hit(
                f"pool {name}: {provider.upper()} offers no InfiniBand",
                fix + " (or run this pool on azure/onprem)",
                ("fabric", "type"),
                name,
            )
        elif provider == "azure" and facts.instance is not None and not facts.instance.infiniband:
            yield Hit(
                f"pool {name}: {facts.instance.name} has no InfiniBand",
                "use an InfiniBand size such as Standard_ND96isr_H100_v5",
                ("pools", name, "instance_type"),
                name,
            )


@rule("GF-NET-004", "EFA fabric but a pool without EFA", "warning")
def efa_fabric_pool(ctx: CheckContext) -> Iterator[Hit]:
    """With fabric efa, AWS GPU pools that leave EFA off fall back to TCP for NCCL."""
    if ctx.doc.spec.fabric.type != "efa":
        return
    for name, facts in ctx.pools.items():
        has_efa = facts.instance is not None and facts.instance.efa > 0
        if facts.target.provider == "aws" and has_efa and not facts.pool.network.efa:
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
        if facts.pool.placement_group and facts.target.provider not in CLOUDS:
            yield Hit(
                f"pool {name}: placement groups apply only to clouds ({facts.target} ignores it)",
                "remove placement_group for this pool",
                ("pools", name, "placement_group"),
                name,
                "info",
            )
