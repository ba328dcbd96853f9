"""GF-MIG: MIG profiles must exist on the pool's GPU and fit its slices and placements."""

from __future__ import annotations

from collections.abc import Iterator

from gpuforge.check._context import CheckContext
from gpuforge.check._mig import placement_problem, resolve_layout
from gpuforge.check._registry import Hit, rule
from gpuforge.spec import MigConfig


def _mig_settings(ctx: CheckContext) -> Iterator[tuple[str, MigConfig, tuple[str, ...]]]:
    for name, facts in ctx.pools.items():
        settings = ctx.doc.spec.pool_gpu_settings(facts.pool)
        if settings.mig is None or facts.gpu is None:
            continue
        path = (
            ("pools", name, "gpu", "mig")
            if facts.pool.gpu is not None and facts.pool.gpu.mig is not None
            else ("gpu", "mig")
        )
        yield name, settings.mig, path


@rule("GF-MIG-001", "MIG profile unknown for the GPU", "error")
def unknown_profile(ctx: CheckContext) -> Iterator[Hit]:
    """Profile names depend on GPU memory: 3g.40gb exists on H100 80GB, not on A100 40GB."""
    for name, mig, path in _mig_settings(ctx):
        gpu = ctx.pools[name].gpu
        if gpu is None or gpu.mig is None or mig.layout:
            continue
        for profile in mig.devices:
            if profile not in gpu.mig.profiles:
                yield Hit(
                    f"pool {name}: MIG profile {profile!r} does not exist on {gpu.name}",
                    f"use one of {', '.join(gpu.mig.profiles)}",
                    (*path, profile),
                    name,
                )


@rule("GF-MIG-002", "MIG instances do not fit the GPU", "error")
def layout_fits(ctx: CheckContext) -> Iterator[Hit]:
    """Counts, compute slices and memory placements must fit (as mig-parted requires)."""
    for name, mig, path in _mig_settings(ctx):
        gpu = ctx.pools[name].gpu
        if gpu is None or gpu.mig is None:
            continue
        counts = resolve_layout(ctx.catalog, gpu, mig.layout, mig.devices)
        if isinstance(counts, str) or any(p not in gpu.mig.profiles for p in counts):
            continue
        problem = placement_problem(gpu.mig, counts)
        if problem:
            yield Hit(
                f"pool {name}: MIG layout does not fit one {gpu.name}: {problem}",
                "reduce the instance counts or use a named layout such as all-balanced",
                path,
                name,
            )


@rule("GF-MIG-003", "MIG on a GPU without MIG", "error")
def mig_unsupported(ctx: CheckContext) -> Iterator[Hit]:
    """Only A100, A30, H100, H200, B200 (and similar) partition into MIG instances."""
    for name, _mig, path in _mig_settings(ctx):
        gpu = ctx.pools[name].gpu
        if gpu is not None and gpu.mig is None:
            yield Hit(
                f"pool {name}: {gpu.name} does not support MIG",
                "remove `mig` for this pool (set it to null in the pool's gpu section)",
                path,
                name,
            )


@rule("GF-MIG-004", "unknown MIG layout name", "error")
def unknown_layout(ctx: CheckContext) -> Iterator[Hit]:
    """Named layouts (all-1g, all-balanced ...) must be defined for the pool's GPU."""
    for name, mig, path in _mig_settings(ctx):
        gpu = ctx.pools[name].gpu
        if gpu is None or gpu.mig is None or not mig.layout:
            continue
        counts = resolve_layout(ctx.catalog, gpu, mig.layout, mig.devices)
        if isinstance(counts, str):
            yield Hit(f"pool {name}: {counts}", "use a known layout or a profile map", path, name)


@rule("GF-MIG-005", "MIG group for a profile the layout does not create", "error")
def group_without_instances(ctx: CheckContext) -> Iterator[Hit]:
    """A group given a profile the pool's layout never creates guards nothing: a typo (3g.40g)
    that leaves the instances meant for the group open to everyone."""
    for name, mig, path in _mig_settings(ctx):
        gpu = ctx.pools[name].gpu
        if gpu is None or gpu.mig is None or not mig.groups:
            continue
        counts = resolve_layout(ctx.catalog, gpu, mig.layout, mig.devices)
        if isinstance(counts, str):
            continue
        for profile, group in mig.groups.items():
            if profile not in counts:
                yield Hit(
                    f"pool {name}: MIG group {group!r} is for profile {profile!r}, which the "
                    f"pool's layout does not create on {gpu.name}",
                    f"name a profile the layout creates ({', '.join(sorted(counts))}), or add "
                    f"{profile} to the layout",
                    (*path, "groups", profile),
                    name,
                )
