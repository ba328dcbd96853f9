"""`gpuforge cost rightsize`: per pool, keep, shrink, grow or change instance type, judged on
DCGM utilisation and memory percentiles over the metrics' window, with the money it moves.

Rules (p95 over every sample of every GPU of the pool):
- busy (p95 utilisation above 90 %, or memory above 90 %): grow to bring p95 to 70 %;
- idle (p95 utilisation below 40 %): shrink to bring p95 to 70 %, and, on a cloud, compare with
  the cheapest instance type of the same GPU model with fewer GPUs per node carrying the GPUs
  that p95 needs at 70 %; the cheaper of the two is recommended (another GPU model is never
  proposed: utilisation on one model says little about another's);
- otherwise keep.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from gpuforge.check import CheckContext, PoolPrice, pool_prices
from gpuforge.cost._metrics import FB_FREE, FB_USED, UTIL, GpuSeries

TARGET_UTIL = 70.0
BUSY_UTIL = 90.0
IDLE_UTIL = 40.0
BUSY_MEMORY = 0.90


@dataclass
class Evidence:
    """What the recommendation rests on: GPUs, samples, window and percentiles."""

    hosts: list[str]
    gpus: int
    samples: int
    window_hours: float | None
    util_p50: float
    util_p95: float
    util_max: float
    memory_p95_mib: float
    memory_p95_share: float | None

    def to_data(self) -> dict[str, Any]:
        """Plain data for `--json`."""
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class Advice:
    """One pool's recommendation, with its evidence and the hourly money it moves."""

    pool: str
    action: str
    reason: str
    nodes: int
    instance_type: str | None
    new_nodes: int
    new_instance_type: str | None
    usd_per_hour: float | None
    new_usd_per_hour: float | None
    evidence: Evidence | None
    alternatives: list[str] = field(default_factory=list)

    @property
    def saving_per_month(self) -> float | None:
        """Monthly USD saved (negative: the change costs more)."""
        if self.usd_per_hour is None or self.new_usd_per_hour is None:
            return None
        return round((self.usd_per_hour - self.new_usd_per_hour) * 730, 2)

    def to_data(self) -> dict[str, Any]:
        """Plain data for `--json`."""
        return {
            "action": self.action,
            "reason": self.reason,
            "nodes": self.nodes,
            "instance_type": self.instance_type,
            "new_nodes": self.new_nodes,
            "new_instance_type": self.new_instance_type,
            "usd_per_hour": self.usd_per_hour,
            "new_usd_per_hour": self.new_usd_per_hour,
            "saving_usd_per_month": self.saving_per_month,
            "alternatives": self.alternatives,
            "evidence": self.evidence.to_data() if self.evidence else None,
        }


def pool_of_host(host: str, cluster: str, pools: list[str]) -> str | None:
    """The pool a node's hostname belongs to: `<pool>-N` or `<cluster>-<pool>-N` (any domain)."""
    short = host.split(".")[0]
    for pool in sorted(pools, key=len, reverse=True):
        if re.fullmatch(rf"(?:{re.escape(cluster)}-)?{re.escape(pool)}-\d+", short):
            return pool
    return None


def _values(series: list[GpuSeries], metric: str) -> list[float]:
    return [v for s in series for _, v in s.values.get(metric, [])]


def _evidence(series: list[GpuSeries], memory_mib: float | None) -> Evidence | None:
    import numpy as np  # only here: every other command (`up` too) starts without it

    util = _values(series, UTIL)
    used = _values(series, FB_USED)
    if not util:
        return None
    stamps = [t for s in series for pts in s.values.values() for t, _ in pts if t is not None]
    window = (max(stamps) - min(stamps)) / 3600 if len(stamps) > 1 else None
    total = memory_mib
    if total is None:
        pairs = [
            u + f
            for s in series
            for (_, u), (_, f) in zip(
                s.values.get(FB_USED, []), s.values.get(FB_FREE, []), strict=False
            )
        ]
        total = max(pairs) if pairs else None
    memory_p95 = float(np.percentile(used, 95)) if used else 0.0
    return Evidence(
        hosts=sorted({s.host for s in series}),
        gpus=len(series),
        samples=len(util),
        window_hours=None if window is None else round(window, 2),
        util_p50=round(float(np.percentile(util, 50)), 1),
        util_p95=round(float(np.percentile(util, 95)), 1),
        util_max=round(max(util), 1),
        memory_p95_mib=round(memory_p95, 0),
        memory_p95_share=round(memory_p95 / total, 3) if total else None,
    )


def _smaller_type(
    ctx: CheckContext, price: PoolPrice, model: str, gpus: int
) -> tuple[str, int, float] | None:
    """The cheapest way to carry `gpus` GPUs of `model` on instance types with fewer GPUs per
    node than the pool's, in its cloud and region: (type, nodes, USD/h)."""
    best: tuple[str, int, float] | None = None
    for (cloud, name), it in ctx.catalog.instances.items():
        if cloud != price.provider or not 0 < it.gpus < price.gpus_per_node:
            continue
        if (it.gpu or ctx.catalog.resolve_gpu_name(it.gpu_label or "")) != model:
            continue
        offer = it.regions.get(price.region)
        if offer is None:
            continue
        node = offer.on_demand if price.market == "on-demand" else (offer.spot or offer.on_demand)
        if node is None:
            continue
        nodes = math.ceil(gpus / it.gpus)
        if best is None or node * nodes < best[2]:
            best = (name, nodes, node * nodes)
    return best


def rightsize(ctx: CheckContext, series: list[GpuSeries]) -> tuple[dict[str, Advice], list[str]]:
    """Advice per pool from the GPU series, and the hosts no pool claims."""
    spec = ctx.doc.spec
    names = list(spec.pools)
    by_pool: dict[str, list[GpuSeries]] = {name: [] for name in names}
    unmatched: set[str] = set()
    for s in series:
        pool = s.labels.get("pool") or pool_of_host(s.host, spec.name, names)
        if pool in by_pool:
            by_pool[pool].append(s)
        else:
            unmatched.add(s.host)
    prices = pool_prices(ctx)
    advice = {name: _advise(ctx, name, by_pool[name], prices[name]) for name in names}
    return advice, sorted(unmatched)


def _advise(ctx: CheckContext, name: str, series: list[GpuSeries], price: PoolPrice) -> Advice:
    facts = ctx.pools[name]
    memory = float(facts.gpu.memory_mib) if facts.gpu else None
    evidence = _evidence(series, memory)
    nodes = price.nodes
    current = price.hourly()
    node_price = price.node_hourly(price.market)
    keep = Advice(
        name,
        "keep",
        "",
        nodes,
        price.instance_type,
        nodes,
        price.instance_type,
        current,
        current,
        evidence,
    )
    if evidence is None:
        keep.reason = "no utilisation samples for this pool's nodes"
        return keep
    share = evidence.memory_p95_share or 0.0
    if evidence.util_p95 > BUSY_UTIL or share > BUSY_MEMORY:
        grow = max(nodes + 1, math.ceil(nodes * evidence.util_p95 / TARGET_UTIL))
        keep.action, keep.new_nodes = "grow", grow
        keep.reason = (
            f"p95 utilisation {evidence.util_p95:g} % (memory {share:.0%}) is above "
            f"{BUSY_UTIL:g} %: {grow} nodes bring it to about {TARGET_UTIL:g} %"
        )
        keep.new_usd_per_hour = None if node_price is None else node_price * grow
        return keep
    if evidence.util_p95 >= IDLE_UTIL:
        keep.reason = (
            f"p95 utilisation {evidence.util_p95:g} % is within {IDLE_UTIL:g}-{BUSY_UTIL:g} %"
        )
        return keep
    fewer = max(1, math.ceil(nodes * evidence.util_p95 / TARGET_UTIL))
    options: list[tuple[float | None, str, int, str | None]] = []
    if fewer < nodes:
        cost = None if node_price is None else node_price * fewer
        options.append((cost, "shrink", fewer, price.instance_type))
    needed = math.ceil(evidence.gpus * evidence.util_p95 / TARGET_UTIL) or 1
    smaller = None
    if price.priced and facts.gpu is not None:
        smaller = _smaller_type(ctx, price, facts.gpu.name, needed)
    if smaller is not None:
        options.append((smaller[2], "smaller instance type", smaller[1], smaller[0]))
    if not options:
        keep.reason = f"p95 utilisation {evidence.util_p95:g} % is low, but nothing smaller fits"
        return keep
    options.sort(key=lambda o: (o[0] is None, o[0] or 0.0))
    cost, action, new_nodes, new_type = options[0]
    keep.action, keep.new_nodes, keep.new_instance_type, keep.new_usd_per_hour = (
        action,
        new_nodes,
        new_type,
        cost,
    )
    keep.reason = (
        f"p95 utilisation {evidence.util_p95:g} % is below {IDLE_UTIL:g} %, p95 memory "
        f"{evidence.memory_p95_mib:,.0f} MiB ({share:.0%})"
    )
    keep.alternatives = [
        f"{a}: {n} x {t or 'same type'} at {'-' if c is None else f'{c:,.2f}'} USD/h"
        for c, a, n, t in options[1:]
    ]
    return keep
