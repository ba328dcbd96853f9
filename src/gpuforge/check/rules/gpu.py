"""GF-GPU: power limit, compute mode and MPS settings must suit the GPU."""

from __future__ import annotations

from collections.abc import Iterator

from gpuforge.check._context import CheckContext
from gpuforge.check._registry import Hit, rule


def _setting_path(ctx: CheckContext, pool: str, key: str) -> tuple[str, ...]:
    facts = ctx.pools[pool]
    if facts.pool.gpu is not None and getattr(facts.pool.gpu, key) is not None:
        return ("pools", pool, "gpu", key)
    return ("gpu", key)


@rule("GF-GPU-001", "power limit outside the GPU's range", "error")
def power_limit_range(ctx: CheckContext) -> Iterator[Hit]:
    """`nvidia-smi -pl` refuses values outside [min, max] of the board."""
    for name, facts in ctx.pools.items():
        limit = ctx.doc.spec.pool_gpu_settings(facts.pool).power_limit_w
        if limit is None or facts.gpu is None:
            continue
        power = facts.gpu.power
        if not power.min <= limit <= power.max:
            yield Hit(
                f"pool {name}: power limit {limit} W is outside {facts.gpu.name}'s range "
                f"{power.min:g}-{power.max:g} W",
                f"set power_limit_w between {power.min:g} and {power.max:g} (default "
                f"{power.default:g})",
                _setting_path(ctx, name, "power_limit_w"),
                name,
            )


@rule("GF-GPU-002", "compute mode leaves the GPU unusable", "warning")
def prohibited_mode(ctx: CheckContext) -> Iterator[Hit]:
    """PROHIBITED allows no compute context at all on the GPU."""
    for name, facts in ctx.pools.items():
        if ctx.doc.spec.pool_gpu_settings(facts.pool).compute_mode == "PROHIBITED":
            yield Hit(
                f"pool {name}: compute mode PROHIBITED lets no process use the GPUs",
                "use DEFAULT or EXCLUSIVE_PROCESS",
                _setting_path(ctx, name, "compute_mode"),
                name,
            )


@rule("GF-GPU-003", "MPS without exclusive-process compute mode", "warning")
def mps_mode(ctx: CheckContext) -> Iterator[Hit]:
    """With MPS, EXCLUSIVE_PROCESS makes the MPS server the GPU's only client."""
    for name, facts in ctx.pools.items():
        settings = ctx.doc.spec.pool_gpu_settings(facts.pool)
        if settings.mps.enabled and settings.compute_mode != "EXCLUSIVE_PROCESS":
            yield Hit(
                f"pool {name}: MPS is enabled but compute mode is {settings.compute_mode}",
                "set compute_mode: EXCLUSIVE_PROCESS so only the MPS server owns the GPU",
                _setting_path(ctx, name, "compute_mode"),
                name,
            )


@rule("GF-GPU-004", "persistence mode off", "warning")
def persistence_off(ctx: CheckContext) -> Iterator[Hit]:
    """Without persistence the driver tears down and re-initialises GPUs between jobs."""
    for name, facts in ctx.pools.items():
        if not ctx.doc.spec.pool_gpu_settings(facts.pool).persistence_mode:
            yield Hit(
                f"pool {name}: persistence mode is off; every job start pays GPU initialisation",
                "set persistence_mode: true",
                _setting_path(ctx, name, "persistence_mode"),
                name,
            )
