"""The version model: judge a driver, CUDA, NCCL or cuDNN version by its branch or series.

The catalog lists releases it has seen, but the list is not a gate. A well-formed version that
the catalog does not list is judged by what is known of its branch (driver: the branch's type
and end of life) or series (CUDA X.Y: the floor of the next listed update, else of the newest;
NCCL 2.x and cuDNN 9.x: the builds of the nearest listed release), with `catalogued=False`.
Only versions outside every known branch or series, or of the wrong shape, are refused (None).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from gpuforge.catalog._load import Catalog
from gpuforge.catalog._models import CudaRelease, CudnnRelease, DriverRelease, NcclRelease
from gpuforge.catalog._versions import Version

_T = TypeVar("_T", CudaRelease, NcclRelease, CudnnRelease)


def _nearest(version: Version, series: Sequence[_T]) -> _T | None:
    """The listed release nearest below `version` in its series, else the nearest above."""
    below = [r for r in series if r.version <= version]
    if below:
        return max(below, key=lambda r: r.version)
    return min(series, key=lambda r: r.version) if series else None


def judge_driver(catalog: Catalog, version: Version) -> DriverRelease | None:
    """The catalogued driver release, one judged by its known branch, or None (X.Y[.Z] only)."""
    for release in catalog.drivers:
        if release.version.parts == version.parts:
            return release
    branch = catalog.branches.get(str(version.major))
    if branch is None or len(version.parts) not in (2, 3):
        return None
    return DriverRelease(version=version, sources=branch.sources, catalogued=False)


def judge_cuda(catalog: Catalog, version: Version) -> CudaRelease | None:
    """The catalogued CUDA update, or one of a known X.Y series judged by a listed floor."""
    if len(version.parts) != 3:
        return None
    series = [c for c in catalog.cuda if c.version.parts[:2] == version.parts[:2]]
    for release in series:
        if release.version.parts == version.parts:
            return release
    # The next listed update's floor is at least as high as this one's: judge by it if any.
    above = [c for c in series if c.version > version]
    nearest = min(above, key=lambda c: c.version) if above else _nearest(version, series)
    if nearest is None:
        return None
    return CudaRelease(version=version, min_driver=nearest.min_driver, catalogued=False)


def judge_nccl(catalog: Catalog, version: Version) -> NcclRelease | None:
    """The catalogued NCCL release, or a 2.x.y one with the builds of its nearest listed release."""
    if len(version.parts) != 3:
        return None
    series = [n for n in catalog.nccl if n.version.major == version.major]
    for release in series:
        if release.version.parts == version.parts:
            return release
    nearest = _nearest(version, series)
    if nearest is None:
        return None
    return nearest.model_copy(update={"version": version, "catalogued": False})


def judge_cudnn(catalog: Catalog, version: Version) -> list[CudnnRelease]:
    """Every build of a catalogued cuDNN version, or of the nearest listed one of its major."""
    if len(version.parts) < 3:
        return []
    exact = [c for c in catalog.cudnn if c.version.parts == version.parts]
    if exact:
        return exact
    series = [c for c in catalog.cudnn if c.version.major == version.major]
    nearest = _nearest(version, series)
    if nearest is None:
        return []
    return [
        c.model_copy(update={"version": version, "catalogued": False})
        for c in series
        if c.version == nearest.version
    ]
