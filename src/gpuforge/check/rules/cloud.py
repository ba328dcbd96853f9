"""GF-CLOUD: instance types must exist, be offered in the region, and carry the GPUs asked."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from gpuforge.check._context import CheckContext
from gpuforge.check._registry import Hit, rule


@rule("GF-CLOUD-001", "unknown instance type", "error")
def unknown_instance(ctx: CheckContext) -> Iterator[Hit]:
    """The catalog knows each cloud's GPU instance types; typos are common (p4d.24xl)."""
    for name, facts in ctx.pools.items():
        itype = facts.pool.instance_type
        provider = facts.target.provider
        if not itype or not facts.provider.has_market or facts.instance is not None:
            continue
        known = [n for (c, n) in ctx.catalog.instances if c == provider]
        close = difflib.get_close_matches(itype, known, n=3, cutoff=0.6)
        yield Hit(
            f"pool {name}: {itype!r} is not a known {provider} GPU instance type",
            f"did you mean {' or '.join(close)}?" if close else "run `gpuforge catalog instances`",
            ("pools", name, "instance_type"),
            name,
        )


@rule("GF-CLOUD-002", "instance type not offered in the region", "error")
def not_in_region(ctx: CheckContext) -> Iterator[Hit]:
    """GPU instance types are offered in a subset of regions (price snapshot 2026-11-28)."""
    for name, facts in ctx.pools.items():
        instance = facts.instance
        region = facts.target.location
        if instance is None or not instance.regions or region in instance.regions:
            continue
        offered = ", ".join(sorted(instance.regions)[:8])
        yield Hit(
            f"pool {name}: {instance.name} is not offered in {region}",
            f"use one of {offered}",
            ("pools", name, "instance_type"),
            name,
        )


@rule("GF-CLOUD-003", "GPU model does not match the instance type", "error")
def gpu_instance_mismatch(ctx: CheckContext) -> Iterator[Hit]:
    """When both `gpu` and `instance_type` are given they must agree (p4d = 8 x A100-40GB)."""
    for name, facts in ctx.pools.items():
        pool, instance = facts.pool, facts.instance
        if pool.gpu is None or instance is None or not instance.gpu:
            continue
        if pool.gpu.model != instance.gpu or pool.gpu.count != instance.gpus:
            yield Hit(
                f"pool {name}: {instance.name} has {instance.gpus} x {instance.gpu}, but the pool "
                f"asks for {pool.gpu.count} x {pool.gpu.model}",
                f'set gpu: "{instance.gpu}:{instance.gpus}" or choose another instance type',
                ("pools", name, "gpu"),
                name,
            )


@rule("GF-CLOUD-004", "instance type on a target without instance types", "error")
def instance_on_non_cloud(ctx: CheckContext) -> Iterator[Hit]:
    """local, onprem and vsphere pools describe hardware with `gpu: MODEL:COUNT`."""
    for name, facts in ctx.pools.items():
        if facts.pool.instance_type and not facts.provider.has_market:
            yield Hit(
                f"pool {name}: instance_type applies to clouds; target {facts.target} has none",
                'replace instance_type with gpu: "MODEL:COUNT"',
                ("pools", name, "instance_type"),
                name,
            )


@rule("GF-CLOUD-005", "no instance type offers the requested GPUs", "error")
def gpu_without_instance(ctx: CheckContext) -> Iterator[Hit]:
    """A cloud pool given only `gpu` gets the cheapest matching instance type in its region."""
    for name, facts in ctx.pools.items():
        pool = facts.pool
        provider = facts.target.provider
        if pool.instance_type or pool.gpu is None or not facts.provider.has_market:
            continue
        options = facts.provider.instances_for(
            ctx.catalog, pool.gpu.model, pool.gpu.count, facts.target.location
        )
        if options:
            yield Hit(
                f"pool {name}: will use {options[0].name}, the cheapest {provider} type with "
                f"{pool.gpu.count} x {pool.gpu.model} in {facts.target.location}",
                f"pin instance_type: {options[0].name} to make the choice explicit",
                ("pools", name, "gpu"),
                name,
                "info",
            )
        else:
            yield Hit(
                f"pool {name}: no {provider} instance type in {facts.target.location} has "
                f"{pool.gpu.count} x {pool.gpu.model}",
                "change the GPU count or region, or give an instance_type",
                ("pools", name, "gpu"),
                name,
            )


@rule("GF-CLOUD-006", "spot market where there is no market", "warning")
def spot_off_cloud(ctx: CheckContext) -> Iterator[Hit]:
    """Spot capacity exists on clouds (and, simulated, on the local fleet); onprem and vSphere
    ignore the setting."""
    for name, facts in ctx.pools.items():
        if facts.pool.market != "on-demand" and facts.provider.spot is None:
            yield Hit(
                f"pool {name}: market {facts.pool.market} has no meaning on {facts.target}",
                "remove market for this pool",
                ("pools", name, "market"),
                name,
            )
