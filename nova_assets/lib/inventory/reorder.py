"""Reorder points. The design's formula is kept as the named baseline policy."""

from __future__ import annotations

import math
from dataclasses import dataclass

BASELINE_Z = 1.65  # the design's fixed 95 % cycle service level


@dataclass(frozen=True)
class ReorderPoint:
    safety_stock: float
    reorder_point: float
    days_until_stockout: float
    days_until_reorder_point: float


def baseline_policy(
    mean_daily_demand: float,
    sigma_daily_demand: float,
    lead_time_days: float,
    stock_position: float,
    context_factor: float = 1.0,
    z: float = BASELINE_Z,
) -> ReorderPoint:
    """The design's policy: SS = z * sigma * sqrt(LT) * factors; PP = d * LT + SS."""
    if mean_daily_demand < 0 or sigma_daily_demand < 0 or lead_time_days < 0:
        raise ValueError("demand, its deviation and the lead time must be non-negative")
    safety_stock = z * sigma_daily_demand * math.sqrt(lead_time_days) * context_factor
    reorder_point = mean_daily_demand * lead_time_days + safety_stock
    if mean_daily_demand > 0:
        days_to_stockout = max(stock_position, 0.0) / mean_daily_demand
        days_to_reorder = max(stock_position - reorder_point, 0.0) / mean_daily_demand
    else:
        days_to_stockout = days_to_reorder = math.inf
    return ReorderPoint(safety_stock, reorder_point, days_to_stockout, days_to_reorder)
