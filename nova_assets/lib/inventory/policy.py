"""The project's reorder-point policy, batched over stocking points (one row per material).

Per item: the demand expected over the risk period R + L (review period plus lead time) and its
distribution (normal, or bootstrapped for intermittent/lumpy items), the service target of its
criticality class, the order quantity (EOQ with a SELIC-based carrying rate, or an up-to cover),
then reorder point s, order-up-to level S = s + Q, the suggested order at the inventory position
(on hand + on order - backorders) and the days until the reorder point and until a stockout.
The same `reorder_points` function drives the daily cycle and the policy backtest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from nova_assets.lib.inventory.lead_time_demand import EmpiricalLTD, NormalLTD, sigma_lead_time_demand
from nova_assets.lib.inventory.reorder import economic_order_quantity
from nova_assets.lib.inventory.service import Measure, ServiceTarget

DAYS_PER_YEAR = 365.0
HORIZON_LIMIT_DAYS = 730  # "days until" beyond two years is reported as infinite


class OrderRule(StrEnum):
    EOQ = "eoq"  # S = s + EOQ (falls back to the cover when the unit cost is unknown)
    UP_TO = "up_to"  # S = s + mean demand over `cover_days`


class Method(StrEnum):
    NORMAL = "normal"
    BOOTSTRAP = "bootstrap"


@dataclass(frozen=True)
class PolicySettings:
    """Everything the policy needs besides the data. The deployment's values (and their defaults) are
    settings of nova_assets/settings.py (NOVA_SERVICE_TARGETS, NOVA_ORDER_RULE, ...)."""

    targets: dict[str, ServiceTarget]
    order_rule: OrderRule
    cover_days: float
    order_cost_brl: float
    context_multiplier: bool
    context_cap: float
    default_class: str = "B"  # target for items whose criticality is missing or unknown
    review_days: float = 1.0  # the position is checked every cycle

    def target(self, criticality: str | None) -> ServiceTarget:
        return self.targets.get(str(criticality), self.targets[self.default_class])


def reorder_points(
    normal: NormalLTD,
    empirical: EmpiricalLTD | None,
    use_empirical: np.ndarray,
    is_fill: np.ndarray,
    level: np.ndarray,
    order_quantity: np.ndarray,
    safety_multiplier: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Reorder point per item from the distribution that fits it; a multiplier scales positive
    safety stock only. Never negative."""
    s = normal.reorder_point(is_fill, level, order_quantity)
    if empirical is not None and use_empirical.any():
        s = np.where(use_empirical, empirical.reorder_point(is_fill, level, order_quantity), s)
        mean = np.where(use_empirical, empirical.mean, normal.mean)
    else:
        mean = normal.mean
    safety = s - mean
    s = mean + np.where(safety > 0, safety * safety_multiplier, safety)
    return np.maximum(s, 0.0)


def order_quantities(
    mean_daily: np.ndarray, unit_cost: np.ndarray, settings: PolicySettings, rate: float
) -> np.ndarray:
    """Q per item: EOQ where the unit cost gives a holding cost, else the demand of `cover_days`."""
    cover = mean_daily * settings.cover_days
    if settings.order_rule is OrderRule.UP_TO:
        return cover
    eoq = economic_order_quantity(mean_daily * DAYS_PER_YEAR, settings.order_cost_brl, unit_cost, rate)
    return np.where(np.isfinite(eoq), eoq, cover)


def project_policy(items: pd.DataFrame, empirical: EmpiricalLTD, settings: PolicySettings, rate: float) -> pd.DataFrame:
    """Levels and suggestions for every row of `items` (daily units, calendar days).

    `items` columns: criticality, unit_cost, mean_daily (forecast over the risk period),
    sigma_daily (forecast error per day, sqrt(L) scaling already undone), lead_time_days,
    lead_time_std_days (calendar), intermittent (bool), on_hand, on_order, backorders,
    context_multiplier. `empirical` rows are aligned with `items` (risk-period demand draws).
    """
    risk = items["lead_time_days"].to_numpy(float) + settings.review_days
    mean_daily = items["mean_daily"].to_numpy(float)
    expected = mean_daily * risk
    sigma_ltd = sigma_lead_time_demand(
        risk, items["sigma_daily"].to_numpy(float), mean_daily, items["lead_time_std_days"].to_numpy(float)
    )
    targets = [settings.target(c) for c in items["criticality"]]
    is_fill = np.array([t.measure is Measure.FILL_RATE for t in targets])
    level = np.array([t.level for t in targets])
    q = order_quantities(mean_daily, items["unit_cost"].to_numpy(float), settings, rate)
    use_empirical = items["intermittent"].to_numpy(bool)
    empirical = empirical.rescaled(expected)
    multiplier = items["context_multiplier"].to_numpy(float) if settings.context_multiplier else 1.0
    s = reorder_points(NormalLTD(expected, sigma_ltd), empirical, use_empirical, is_fill, level, q, multiplier)
    expected = np.where(use_empirical, empirical.mean, expected)
    position = (items["on_hand"] + items["on_order"] - items["backorders"]).to_numpy(float)
    up_to = s + q
    suggested = np.where(position <= s, np.ceil(np.maximum(up_to - position, 0.0)), 0.0)
    return pd.DataFrame(
        {
            "method": np.where(use_empirical, Method.BOOTSTRAP.value, Method.NORMAL.value),
            "service_measure": [t.measure.value for t in targets],
            "service_target": level,
            "risk_period_days": risk,
            "expected_ltd": expected,
            "sigma_ltd": sigma_ltd,
            "safety_stock": s - expected,
            "reorder_point": s,
            "order_quantity": q,
            "order_up_to": up_to,
            "stock_position": position,
            "suggested_order": suggested,
        },
        index=items.index,
    )


def days_until(level: np.ndarray, start: np.ndarray, daily_demand: np.ndarray, receipts: np.ndarray) -> np.ndarray:
    """First day d (fractional) at which start + receipts up to d - demand up to d falls to `level`.

    `daily_demand` and `receipts` are (n_items, H) from tomorrow on; demand beyond H continues at
    the mean of the path (receipts stop). 0 if already at or below; inf if never within two years.
    """
    n, horizon = daily_demand.shape
    tail = daily_demand.mean(axis=1, keepdims=True) if horizon else np.zeros((n, 1))
    extra = HORIZON_LIMIT_DAYS - horizon
    demand = np.concatenate([daily_demand, np.repeat(tail, max(extra, 0), axis=1)], axis=1)
    receipts = np.concatenate([receipts, np.zeros((n, max(extra, 0)))], axis=1)
    path = start[:, None] + np.cumsum(receipts - demand, axis=1)
    previous = np.concatenate([start[:, None], path[:, :-1]], axis=1)
    crossed = path <= level[:, None] + 1e-9
    day = np.argmax(crossed, axis=1)
    rows = np.arange(n)
    # Interpolate inside the crossing day: demand flows through the day, receipts land at its start.
    before = previous[rows, day] + receipts[rows, day]
    drop = demand[rows, day]
    fraction = np.clip(np.divide(before - level, drop, out=np.ones(n), where=drop > 0), 0.0, 1.0)
    out = np.where(crossed.any(axis=1), day + fraction, math.inf)
    return np.where(start <= level, 0.0, out)
