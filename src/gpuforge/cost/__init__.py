"""Spec + prices (+ utilisation) -> cost report, cheapest placement, right-sizing, schedules."""

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
from gpuforge.cost._write import optimised_spec

__all__ = [
    "MARKETS",
    "CostReport",
    "Need",
    "Option",
    "Placement",
    "Plan",
    "PoolCost",
    "PoolPlan",
    "Requirement",
    "catalog_options",
    "cost_report",
    "optimised_spec",
    "optimize",
    "requirement_for",
    "solve_pool",
]
