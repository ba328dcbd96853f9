"""The exact placement of one pool: a mixed-integer program solved by HiGHS (SciPy's `milp`).

Variables: x_o >= 0 integer nodes on each admitted option o (cloud, region, instance type,
market), and y_r in {0, 1} for "region r is used" when several regions are required.
Minimise sum(price_o * x_o) subject to
  sum(gpus_o * x_o) >= total GPUs;
  sum over spot o of gpus_o * x_o <= share * sum(gpus_o * x_o)   (max spot share);
  y_r <= sum over o in r of x_o, and sum(y_r) >= min regions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """One way to run nodes of a pool: an instance type in a region on a market, per node-hour."""

    cloud: str
    region: str
    instance_type: str
    gpu: str
    gpus: int
    gpu_memory_gib: float
    market: str
    usd_per_hour: float
    nvlink: bool = False
    efa: bool = False
    infiniband: bool = False

    @property
    def place(self) -> str:
        """`cloud/region`, the unit of the minimum-regions constraint."""
        return f"{self.cloud}/{self.region}"


@dataclass(frozen=True)
class Need:
    """What one pool must get: GPUs in total, a spot share cap, and a number of regions."""

    total_gpus: int
    max_spot_share: float = 1.0
    min_regions: int = 1


def solve_pool(need: Need, options: list[Option]) -> dict[int, int] | None:
    """Nodes per option index of the cheapest placement, or None when none is feasible."""
    # Heavy imports, only when solving: every other command (`up` too) starts without them.
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    usable = [i for i, o in enumerate(options) if need.max_spot_share > 0 or o.market != "spot"]
    if not usable:
        return None
    places = sorted({options[i].place for i in usable})
    use_regions = need.min_regions > 1
    if use_regions and len(places) < need.min_regions:
        return None
    nx = len(usable)
    nvars = nx + (len(places) if use_regions else 0)
    cost = np.zeros(nvars)
    gpus = np.array([options[i].gpus for i in usable], dtype=float)
    cost[:nx] = [options[i].usd_per_hour for i in usable]
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []

    def _add_row(entries: list[tuple[int, float]], lo: float, hi: float) -> None:
        row = len(lower)
        for col, val in entries:
            rows.append(row)
            cols.append(col)
            vals.append(val)
        lower.append(lo)
        upper.append(hi)

    _add_row([(k, gpus[k]) for k in range(nx)], need.total_gpus, np.inf)
    share = need.max_spot_share
    if 0 < share < 1:
        _add_row(
            [
                (k, gpus[k] * ((1 - share) if options[i].market == "spot" else -share))
                for k, i in enumerate(usable)
            ],
            -np.inf,
            0.0,
        )
    if use_regions:
        for r, place in enumerate(places):
            members = [k for k, i in enumerate(usable) if options[i].place == place]
            _add_row([(nx + r, 1.0)] + [(k, -1.0) for k in members], -np.inf, 0.0)
        _add_row([(nx + r, 1.0) for r in range(len(places))], need.min_regions, np.inf)
    matrix = coo_array((vals, (rows, cols)), shape=(len(lower), nvars)).tocsr()
    upper_bounds = np.full(nvars, np.inf)
    upper_bounds[nx:] = 1.0
    result = milp(
        cost,
        constraints=LinearConstraint(matrix, np.array(lower), np.array(upper)),
        integrality=np.ones(nvars),
        bounds=Bounds(np.zeros(nvars), upper_bounds),
    )
    if result.status != 0 or result.x is None:
        return None
    nodes = np.rint(result.x[:nx]).astype(int)
    return {usable[k]: int(n) for k, n in enumerate(nodes) if n > 0}
