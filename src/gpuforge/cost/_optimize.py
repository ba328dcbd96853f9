"""`gpuforge cost optimize`: the cheapest placement of every cloud pool that meets its needs.

Each pool's requirements come from the spec (GPU model and count per node, total GPUs, EFA or
InfiniBand, market) and `cost.optimize` (allowed clouds and regions, spot share, regions, GPU
memory instead of a model). Pools are independent, so each is one exact MILP (`_milp`). A
requirement is reported as binding when relaxing it alone would make the pool cheaper.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gpuforge.catalog import Catalog
from gpuforge.check import CheckContext, pool_prices
from gpuforge.cost._milp import Need, Option, solve_pool
from gpuforge.providers import clouds, provider_for
from gpuforge.spec import ClusterSpec, Pool

CLOUDS = tuple(clouds())
_RDMA = {"rdma", "efa", "infiniband"}


def catalog_options(catalog: Catalog) -> list[Option]:
    """Every priced (instance type, region, market) of the three clouds whose GPU is known."""
    options: list[Option] = []
    for (cloud, name), it in sorted(catalog.instances.items()):
        model = it.gpu or catalog.resolve_gpu_name(it.gpu_label or "")
        if model is None or model not in catalog.gpus or it.gpus < 1:
            continue
        gpu = catalog.gpus[model]
        base = Option(
            cloud=cloud,
            region="",
            instance_type=name,
            gpu=model,
            gpus=it.gpus,
            gpu_memory_gib=gpu.memory_mib / 1024,
            market="on-demand",
            usd_per_hour=0.0,
            nvlink=gpu.nvlink is not None and it.gpus >= 2,
            efa=it.efa > 0,
            infiniband=bool(it.infiniband),
        )
        for region, offer in it.regions.items():
            for market, price in (("on-demand", offer.on_demand), ("spot", offer.spot)):
                if price is not None:
                    options.append(
                        dataclasses.replace(base, region=region, market=market, usd_per_hour=price)
                    )
    return options


@dataclass(frozen=True)
class Requirement:
    """What a pool needs, and where it may run."""

    pool: str
    gpu_models: frozenset[str] | None
    min_gpu_memory_gib: float | None
    gpus_per_node: int | None
    interconnect: frozenset[str]
    clouds: frozenset[str]
    regions: frozenset[str] | None
    need: Need

    def admits(self, option: Option) -> bool:
        """Whether `option` meets every requirement but the totals."""
        if self.gpu_models is not None and option.gpu not in self.gpu_models:
            return False
        if self.min_gpu_memory_gib is not None and option.gpu_memory_gib < self.min_gpu_memory_gib:
            return False
        if self.gpus_per_node is not None and option.gpus != self.gpus_per_node:
            return False
        if "nvlink" in self.interconnect and not option.nvlink:
            return False
        if "efa" in self.interconnect and not option.efa:
            return False
        if "infiniband" in self.interconnect and not option.infiniband:
            return False
        if "rdma" in self.interconnect and not (option.efa or option.infiniband):
            return False
        if option.cloud not in self.clouds:
            return False
        return self.regions is None or option.region in self.regions

    def describe(self) -> dict[str, Any]:
        """Plain data for reports."""
        return {
            "gpu_models": sorted(self.gpu_models) if self.gpu_models is not None else None,
            "min_gpu_memory_gib": self.min_gpu_memory_gib,
            "gpus_per_node": self.gpus_per_node,
            "total_gpus": self.need.total_gpus,
            "interconnect": sorted(self.interconnect),
            "clouds": sorted(self.clouds),
            "regions": sorted(self.regions) if self.regions is not None else "any",
            "max_spot_share": self.need.max_spot_share,
            "min_regions": self.need.min_regions,
        }


@dataclass(frozen=True)
class Placement:
    """Nodes of a pool on one option."""

    option: Option
    nodes: int

    @property
    def usd_per_hour(self) -> float:
        """Hourly USD of these nodes."""
        return self.option.usd_per_hour * self.nodes


@dataclass
class PoolPlan:
    """The optimised placement of one pool, its price, the spec's price, binding constraints."""

    requirement: Requirement
    placements: list[Placement]
    spec_usd_per_hour: float | None
    binding: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def usd_per_hour(self) -> float:
        """Hourly USD of the plan."""
        return sum(p.usd_per_hour for p in self.placements)

    def to_data(self) -> dict[str, Any]:
        """Plain data for `--json`."""
        return {
            "requirements": self.requirement.describe(),
            "placements": [
                {
                    **dataclasses.asdict(p.option),
                    "node_usd_per_hour": p.option.usd_per_hour,
                    "nodes": p.nodes,
                    "usd_per_hour": p.usd_per_hour,
                }
                for p in self.placements
            ],
            "usd_per_hour": None if self.problem else self.usd_per_hour,
            "spec_usd_per_hour": self.spec_usd_per_hour,
            "binding": self.binding,
            "problem": self.problem,
        }


@dataclass
class Plan:
    """Every cloud pool's plan; pools left as they are (owned hardware) with the reason."""

    pools: dict[str, PoolPlan]
    kept: dict[str, str]

    def total(self) -> float:
        """Hourly USD of every feasible pool plan."""
        return sum(p.usd_per_hour for p in self.pools.values() if p.problem is None)

    def spec_total(self) -> float:
        """Hourly USD of the same pools as the spec has them."""
        return sum(p.spec_usd_per_hour or 0.0 for p in self.pools.values() if p.problem is None)


def _pool_gpu(ctx: CheckContext, name: str) -> tuple[str | None, int]:
    facts = ctx.pools[name]
    return (facts.gpu.name if facts.gpu else None), facts.gpus_per_node


def requirement_for(
    ctx: CheckContext,
    name: str,
    pool: Pool,
    clouds: Iterable[str] | None = None,
    regions: Iterable[str] | None = None,
) -> Requirement:
    """A pool's requirements from the spec and `cost.optimize` (CLI lists override both)."""
    spec: ClusterSpec = ctx.doc.spec
    opt = spec.cost.optimize
    own = opt.pools.get(name)
    model, per_node = _pool_gpu(ctx, name)
    memory = own.min_gpu_memory_gb if own and own.min_gpu_memory_gb else None
    gpus_per_node = (own.gpus_per_node if own and own.gpus_per_node else None) or per_node or None
    total = (own.total_gpus if own and own.total_gpus else None) or pool.count * (per_node or 1)
    if own and own.interconnect is not None:
        interconnect = frozenset(own.interconnect)
    elif pool.network.efa or spec.fabric.type in ("infiniband", "efa"):
        interconnect = frozenset({"rdma"})
    else:
        interconnect = frozenset()
    default_share = 0.0 if pool.market == "on-demand" else 1.0
    share = next(
        (
            s
            for s in (own.max_spot_share if own else None, opt.max_spot_share, default_share)
            if s is not None
        ),
        default_share,
    )
    spec_clouds = {t.provider for t in spec.target if provider_for(t).has_market}
    spec_clouds.add(spec.pool_target(pool).provider)
    allowed_clouds = frozenset(clouds or opt.clouds or spec_clouds) & frozenset(CLOUDS)
    spec_regions = {t.location for t in spec.target if provider_for(t).has_market}
    spec_regions.add(spec.pool_target(pool).location)
    region_list = (
        list(regions) if regions is not None else list(opt.regions) or sorted(spec_regions)
    )
    allowed_regions = None if "*" in region_list else frozenset(region_list)
    return Requirement(
        pool=name,
        gpu_models=None if memory else (frozenset({model}) if model else None),
        min_gpu_memory_gib=memory * 1e9 / 2**30 if memory else None,
        gpus_per_node=gpus_per_node,
        interconnect=interconnect,
        clouds=allowed_clouds,
        regions=allowed_regions,
        need=Need(
            total_gpus=total,
            max_spot_share=share,
            min_regions=(own.min_regions if own and own.min_regions else None) or opt.min_regions,
        ),
    )


def _cheapest(req: Requirement, options: list[Option]) -> tuple[list[Placement], float] | None:
    admitted = [o for o in options if req.admits(o)]
    solution = solve_pool(req.need, admitted)
    if solution is None:
        return None
    placements = [Placement(admitted[i], n) for i, n in sorted(solution.items())]
    return placements, sum(p.usd_per_hour for p in placements)


def _relaxations(req: Requirement) -> list[tuple[str, Requirement]]:
    need = req.need
    found: list[tuple[str, Requirement]] = []
    if need.max_spot_share < 1:
        found.append(
            (
                f"max spot share {need.max_spot_share:.0%}",
                dataclasses.replace(req, need=dataclasses.replace(need, max_spot_share=1.0)),
            )
        )
    if need.min_regions > 1:
        found.append(
            (
                f"at least {need.min_regions} regions",
                dataclasses.replace(req, need=dataclasses.replace(need, min_regions=1)),
            )
        )
    if req.regions is not None:
        found.append(
            (
                f"regions limited to {', '.join(sorted(req.regions))}",
                dataclasses.replace(req, regions=None),
            )
        )
    if set(req.clouds) != set(CLOUDS):
        found.append(
            (
                f"clouds limited to {', '.join(sorted(req.clouds))}",
                dataclasses.replace(req, clouds=frozenset(CLOUDS)),
            )
        )
    if req.interconnect:
        found.append(
            (
                f"interconnect {', '.join(sorted(req.interconnect))}",
                dataclasses.replace(req, interconnect=frozenset()),
            )
        )
    if req.gpus_per_node is not None:
        found.append(
            (f"{req.gpus_per_node} GPUs per node", dataclasses.replace(req, gpus_per_node=None))
        )
    return found


def _binding(
    req: Requirement, options: list[Option], placements: list[Placement], cost: float
) -> list[str]:
    placed = sum(p.option.gpus * p.nodes for p in placements)
    binding = []
    if placed == req.need.total_gpus:
        binding.append(f"total GPUs: exactly {placed} placed")
    for label, relaxed in _relaxations(req):
        better = _cheapest(relaxed, options)
        if better is not None and better[1] < cost - 1e-6:
            binding.append(
                f"{label}: without it {better[1]:,.2f} USD/h ({cost - better[1]:,.2f} less)"
            )
    return binding


def optimize(
    ctx: CheckContext,
    clouds: Iterable[str] | None = None,
    regions: Iterable[str] | None = None,
    options: list[Option] | None = None,
    explain: bool = True,
) -> Plan:
    """The cheapest placement of every cloud pool; owned-hardware pools are kept as they are."""
    spec = ctx.doc.spec
    every = options if options is not None else catalog_options(ctx.catalog)
    spec_prices = pool_prices(ctx)
    plan = Plan(pools={}, kept={})
    clouds_list = list(clouds) if clouds else None
    regions_list = list(regions) if regions else None
    for name, pool in spec.pools.items():
        target = spec.pool_target(pool)
        if not provider_for(target).has_market:
            plan.kept[name] = f"{target} is owned hardware: it has no market to optimise"
            continue
        req = requirement_for(ctx, name, pool, clouds_list, regions_list)
        spec_cost = spec_prices[name].hourly()
        if req.gpu_models is None and req.min_gpu_memory_gib is None:
            plan.pools[name] = PoolPlan(
                req, [], spec_cost, problem="the pool's GPU model is unknown"
            )
            continue
        best = _cheapest(req, every)
        if best is None:
            plan.pools[name] = PoolPlan(
                req,
                [],
                spec_cost,
                problem="no placement meets the requirements (allow more clouds or regions, "
                "a higher spot share or fewer regions)",
            )
            continue
        placements, cost = best
        binding = _binding(req, every, placements, cost) if explain else []
        plan.pools[name] = PoolPlan(req, placements, spec_cost, binding)
    return plan
