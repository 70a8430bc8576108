"""The project's reorder-point policy, batched over stocking points (one row per material).

Per item: the demand expected over the risk period R + L (review period plus lead time) and its
distribution (normal for regular items; occurrence x size over a replenishment cycle for
intermittent/lumpy ones), the service target of its criticality class and the nominal level that
the calibration maps it to, the order quantity (EOQ with a SELIC-based carrying rate, or an up-to
cover), then reorder point s, order-up-to level S, the suggested order at the inventory position
(on hand + on order - backorders) and the days until the reorder point and until a stockout.
`ItemLevels.at` is the formula; the daily cycle and the policy backtest both call it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from nova_assets.lib.inventory.calibration import ServiceCalibration
from nova_assets.lib.inventory.choices import Measure, OrderRule, ServiceTarget
from nova_assets.lib.inventory.lead_time_demand import (
    CompoundDemand,
    CycleDemand,
    NormalLTD,
    sigma_lead_time_demand,
    uniform_per_item,
)
from nova_assets.lib.inventory.reorder import economic_order_quantity

DAYS_PER_YEAR = 365.0
HORIZON_LIMIT_DAYS = 730  # "days until" beyond two years is reported as infinite


class Method(StrEnum):
    NORMAL = "normal"
    COMPOUND = "compound"  # occurrence x size, whole history, per replenishment cycle


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


@dataclass(frozen=True)
class ItemLevels:
    """Everything the levels depend on besides the nominal service level, per item: the normal
    lead-time demand (regular items), the cycle draws of the sparse ones (rows of `sparse`, in
    order), each item's measure, order quantity and rounding draw. `at` is the policy's formula,
    the same for the daily cycle and the backtest."""

    normal: NormalLTD
    cycle: CycleDemand | None
    sparse: np.ndarray
    is_fill: np.ndarray
    order_quantity: np.ndarray
    uniform: np.ndarray
    safety_multiplier: np.ndarray | float = 1.0

    @property
    def method(self) -> np.ndarray:
        return np.where(self.sparse, Method.COMPOUND.value, Method.NORMAL.value)

    @property
    def expected(self) -> np.ndarray:
        """Expected demand over the risk period (the normal mean, which is the forecast's)."""
        return self.normal.mean

    def at(self, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Reorder point s and order-up-to level S per item for nominal levels (n,) or (R, n).

        Regular items: s = the normal reorder point, S = s + Q. Sparse items: S from the cycle
        draws (the conditional quantile or the fill-rate level), s = S - Q (the position that a
        trigger demand crosses). A multiplier scales positive safety stock only; s is never
        negative (S = 0 is make-to-order: only a backorder is replenished)."""
        level = np.asarray(level, float)
        rows = np.atleast_2d(np.broadcast_to(level, (*level.shape[:-1], self.sparse.size)))
        q = self.order_quantity
        regular = np.flatnonzero(~self.sparse)
        s = np.zeros(rows.shape)
        normal = self.normal.subset(regular)
        s[:, regular] = [normal.reorder_point(self.is_fill[regular], row[regular], q[regular]) for row in rows]
        s = _scaled_safety(s, self.normal.mean, self.safety_multiplier)
        big_s = s + q
        if self.cycle is not None and self.sparse.any():
            idx = np.flatnonzero(self.sparse)
            mult = np.broadcast_to(self.safety_multiplier, self.sparse.shape)[idx]
            up_to = self.cycle.order_up_to(self.is_fill[idx], rows[:, idx], self.uniform[idx])
            up_to = _scaled_safety(up_to, self.cycle.cover.mean(axis=1), mult)
            big_s[:, idx] = up_to
            s[:, idx] = up_to - q[idx]
        s = np.maximum(s, 0.0)
        big_s = np.maximum(big_s, s)
        return (s, big_s) if level.ndim == 2 else (s[0], big_s[0])


def _scaled_safety(level: np.ndarray, mean: np.ndarray, multiplier: np.ndarray | float) -> np.ndarray:
    safety = level - mean
    return mean + np.where(safety > 0, safety * multiplier, safety)


def order_quantities(
    mean_daily: np.ndarray, unit_cost: np.ndarray, settings: PolicySettings, rate: float
) -> np.ndarray:
    """Q per item: EOQ where the unit cost gives a holding cost, else the demand of `cover_days`."""
    cover = mean_daily * settings.cover_days
    if settings.order_rule is OrderRule.UP_TO:
        return cover
    eoq = economic_order_quantity(mean_daily * DAYS_PER_YEAR, settings.order_cost_brl, unit_cost, rate)
    return np.where(np.isfinite(eoq), eoq, cover)


def suggested_order(reorder_point: np.ndarray, order_up_to: np.ndarray, position: np.ndarray) -> np.ndarray:
    """The order S - position when the position is at or below s, else nothing (whole units)."""
    return np.where(position <= reorder_point, np.ceil(np.maximum(order_up_to - position, 0.0)), 0.0)


def project_policy(
    items: pd.DataFrame,
    demand: CompoundDemand,
    lead_periods: np.ndarray,
    settings: PolicySettings,
    rate: float,
    rng: np.random.Generator,
    calibration: ServiceCalibration | None = None,
) -> pd.DataFrame:
    """Levels and suggestions for every row of `items` (daily units, calendar days).

    `items` columns: criticality, unit_cost, mean_daily (forecast over the risk period),
    sigma_daily (forecast error per day, sqrt(L) scaling already undone), lead_time_days,
    lead_time_std_days (calendar), intermittent (bool), on_hand, on_order, backorders,
    context_multiplier. `demand` is the compound model of each row's history (rescaled here to the
    forecast's level) and `lead_periods` its sampled lead times in days (n_items, n_draws). The
    nominal levels come from `calibration` (fitted on the policy backtest's simulated service),
    the targets themselves without one.
    """
    risk = items["lead_time_days"].to_numpy(float) + settings.review_days
    mean_daily = items["mean_daily"].to_numpy(float)
    sigma_ltd = sigma_lead_time_demand(
        risk, items["sigma_daily"].to_numpy(float), mean_daily, items["lead_time_std_days"].to_numpy(float)
    )
    targets = [settings.target(c) for c in items["criticality"]]
    is_fill = np.array([t.measure is Measure.FILL_RATE for t in targets])
    level = np.array([t.level for t in targets])
    q = order_quantities(mean_daily, items["unit_cost"].to_numpy(float), settings, rate)
    sparse = items["intermittent"].to_numpy(bool)
    idx = np.flatnonzero(sparse)
    model = demand.rescaled(mean_daily)
    cycle = model.subset(idx).cycle_draws(lead_periods[idx] + math.ceil(settings.review_days) - 1, q[idx], rng)
    levels = ItemLevels(
        normal=NormalLTD(mean_daily * risk, sigma_ltd),
        cycle=cycle,
        sparse=sparse,
        is_fill=is_fill,
        order_quantity=q,
        uniform=uniform_per_item(items.index),
        safety_multiplier=items["context_multiplier"].to_numpy(float) if settings.context_multiplier else 1.0,
    )
    nominal = level if calibration is None else calibration.nominal(level, levels.method, is_fill)
    s, up_to = levels.at(nominal)
    expected = levels.expected
    position = (items["on_hand"] + items["on_order"] - items["backorders"]).to_numpy(float)
    suggested = suggested_order(s, up_to, position)
    return pd.DataFrame(
        {
            "method": levels.method,
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
