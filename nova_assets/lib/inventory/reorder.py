"""Reorder-point formulas: the design's baseline, the order quantity (EOQ) and its carrying rate.

The design's formula (SS = 1.65 * sigma * sqrt(LT) * factors; PP = d * LT + SS) is kept as the
named baseline policy so every report can show what the project's policy changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BASELINE_POLICY = "baseline_design"
PROJECT_POLICY = "project"
BASELINE_Z = 1.65  # the design's fixed 95 % cycle service level


@dataclass(frozen=True)
class BaselineLevels:
    safety_stock: np.ndarray
    reorder_point: np.ndarray


def baseline_levels(
    mean_demand: np.ndarray | float,
    sigma_demand: np.ndarray | float,
    lead_time: np.ndarray | float,
    context_factor: np.ndarray | float = 1.0,
    z: float = BASELINE_Z,
) -> BaselineLevels:
    """The design's policy, per period of the demand: SS = z * sigma * sqrt(LT) * factors; PP = d * LT + SS.

    sigma is the standard deviation of one period's demand in the history, LT the mean lead time
    in periods; lead-time variability and the review period are ignored, as in the design.
    """
    mean, sigma, lead = (np.asarray(v, float) for v in (mean_demand, sigma_demand, lead_time))
    if (mean < 0).any() or (sigma < 0).any() or (lead < 0).any():
        raise ValueError("demand, its deviation and the lead time must be non-negative")
    safety = z * sigma * np.sqrt(lead) * np.asarray(context_factor, float)
    return BaselineLevels(safety, mean * lead + safety)


def carrying_rate(selic_percent: float, holding_premium: float) -> float:
    """Yearly cost of holding one BRL of stock: the SELIC (the money's alternative use) plus the
    storage, insurance and obsolescence premium."""
    if selic_percent < 0 or holding_premium < 0:
        raise ValueError("SELIC and holding premium must be non-negative")
    return selic_percent / 100.0 + holding_premium


def economic_order_quantity(
    annual_demand: np.ndarray | float,
    order_cost: float,
    unit_cost: np.ndarray | float,
    rate: float,
) -> np.ndarray:
    """EOQ = sqrt(2 * D * K / (c * i)); NaN where the holding cost per unit is zero (no basis)."""
    demand = np.asarray(annual_demand, float)
    holding = np.asarray(unit_cost, float) * rate
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.sqrt(2.0 * demand * order_cost / holding)
    return np.where(holding > 0, q, np.nan)
