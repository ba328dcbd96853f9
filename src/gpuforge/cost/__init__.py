"""Spec + prices (+ utilisation) -> cost report, cheapest placement, right-sizing, schedules."""

from gpuforge.cost._metrics import GpuSeries, load_gpu_series
from gpuforge.cost._milp import Need, Option, solve_pool
from gpuforge.cost._optimize import (
    Placement,
    Plan,
    PoolPlan,
    Requirement,
    catalog_options,
    optimize,
    requirement_for,
)
from gpuforge.cost._report import MARKETS, CostReport, PoolCost, cost_report
from gpuforge.cost._rightsize import Advice, Evidence, pool_of_host, rightsize
from gpuforge.cost._write import optimised_spec

__all__ = [
    "MARKETS",
    "Advice",
    "CostReport",
    "Evidence",
    "GpuSeries",
    "Need",
    "Option",
    "Placement",
    "Plan",
    "PoolCost",
    "PoolPlan",
    "Requirement",
    "catalog_options",
    "cost_report",
    "load_gpu_series",
    "optimised_spec",
    "optimize",
    "pool_of_host",
    "requirement_for",
    "rightsize",
    "solve_pool",
]
