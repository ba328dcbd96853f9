"""Does a MIG layout fit one GPU? Profiles, per-profile limits, slices and placements."""

from __future__ import annotations

from gpuforge.catalog import Catalog, GpuModel, MigFamily


def resolve_layout(
    catalog: Catalog, gpu: GpuModel, layout: str | None, devices: dict[str, int]
) -> dict[str, int] | str:
    """Profile -> count for one GPU from a layout name or map; a message when it cannot."""
    if gpu.mig is None:
        return f"{gpu.name} does not support MIG"
    if not layout:
        return dict(devices)
    per_family = catalog.mig_layouts.get(layout)
    if per_family is None:
        return f"unknown MIG layout {layout!r}; known: {', '.join(catalog.mig_layouts)}"
    counts = per_family.get(gpu.mig.name)
    if counts is None:
        return f"layout {layout!r} is not defined for {gpu.name}"
    return dict(counts)


def placement_problem(family: MigFamily, counts: dict[str, int]) -> str | None:
    """None when the instances fit one GPU's slices and placements; else why they do not."""
    for name, count in counts.items():
        profile = family.profiles[name]
        if count > profile.max:
            return f"{name} allows at most {profile.max} instance(s) per GPU, {count} asked"
    compute = sum(family.profiles[n].compute * c for n, c in counts.items())
    if compute > family.compute_slices:
        return f"the instances need {compute} compute slices; the GPU has {family.compute_slices}"
    wanted = sorted(
        (family.profiles[n] for n, c in counts.items() for _ in range(c)),
        key=lambda p: (-p.size, p.name),
    )
    used = [False] * family.memory_slices

    def place(index: int) -> bool:
        if index == len(wanted):
            return True
        profile = wanted[index]
        for start in profile.starts:
            span = range(start, min(start + profile.size, family.memory_slices))
            if start + profile.size > family.memory_slices and profile.size > 1:
                continue
            if any(used[s] for s in span):
                continue
            for s in span:
                used[s] = True
            if place(index + 1):
                return True
            for s in span:
                used[s] = False
        return False

    if not place(0):
        return "no placement of these instances fits the GPU's memory slices"
    return None
