"""Spec + prices (+ utilisation) -> cost report, cheapest placement, right-sizing, schedules."""

from gpuforge.cost._report import MARKETS, CostReport, PoolCost, cost_report

__all__ = ["MARKETS", "CostReport", "PoolCost", "cost_report"]
