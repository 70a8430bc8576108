"""The dashboard's calculators: the cycle's own inventory functions (nova_assets.lib.inventory) called on
one item, so a planner's figure and the cycle's figure come from the same code, never a second copy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nova_assets.lib.inventory.choices import Measure, ServiceTarget
from nova_assets.lib.inventory.lead_time_demand import NormalLTD, sigma_lead_time_demand
from nova_assets.lib.inventory.policy import DAYS_PER_YEAR, ItemLevels, PolicySettings
from nova_assets.lib.inventory.reorder import baseline_levels, carrying_rate, economic_order_quantity
from nova_assets.lib.platform.errors import Invalid

FILL_RATE_NEEDS_LOT = (
    "service_measure=fill_rate precisa de order_quantity > 0: a falta esperada por ciclo é comparada com o"
    " lote (use a EOQ de /api/v1/calculators/eoq, como o ciclo)"
)


def check_lot(service_measure: str, order_quantity: float) -> None:
    """Invalid when a fill-rate target comes without a lot: with none, the loss function asks for no
    shortage at all, a silent ~6-sigma safety stock. The API's request schema asks the same, here."""
    if service_measure == Measure.FILL_RATE and not order_quantity > 0:
        raise Invalid(FILL_RATE_NEEDS_LOT)


def _one(value: float) -> np.ndarray:
    return np.array([float(value)])


@dataclass(frozen=True)
class ReorderPointResult:
    risk_period_days: float
    expected_demand: float
    sigma_lead_time_demand: float
    safety_stock: float
    reorder_point: float


def reorder_point(
    mean_daily: float,
    sigma_daily: float,
    lead_time_days: float,
    lead_time_std_days: float,
    service_measure: str,
    service_level: float,
    order_quantity: float,
    review_days: float = PolicySettings.review_days,
) -> ReorderPointResult:
    """The project's policy for a smooth item (normal lead-time demand over lead time + review). A fill-rate
    target needs the order quantity (the cycle's is the EOQ): the expected shortage per cycle is a share of it."""
    if min(mean_daily, sigma_daily, lead_time_days, lead_time_std_days, order_quantity, review_days) < 0:
        raise Invalid("os valores não podem ser negativos")
    try:
        target = ServiceTarget(Measure(service_measure), service_level)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    check_lot(target.measure, order_quantity)
    risk = _one(lead_time_days + review_days)
    expected = _one(mean_daily) * risk
    sigma = sigma_lead_time_demand(risk, _one(sigma_daily), _one(mean_daily), _one(lead_time_std_days))
    levels = ItemLevels(
        normal=NormalLTD(expected, sigma),
        cycle=None,
        sparse=np.array([False]),
        is_fill=np.array([target.measure is Measure.FILL_RATE]),
        order_quantity=_one(order_quantity),
        uniform=_one(0.5),  # only sparse items round by a draw
    )
    s, _ = levels.at(np.array([target.level]))
    return ReorderPointResult(
        float(risk[0]), float(expected[0]), float(sigma[0]), float(s[0] - expected[0]), float(s[0])
    )


@dataclass(frozen=True)
class EoqResult:
    annual_demand: float
    carrying_rate: float
    economic_order_quantity: float | None
    orders_per_year: float | None


def eoq(mean_daily: float, unit_cost: float, order_cost: float, selic_percent: float, holding_rate: float) -> EoqResult:
    """EOQ = sqrt(2 D K / (c i)), i = SELIC + holding premium: the cycle's order quantity."""
    if min(mean_daily, unit_cost, order_cost, selic_percent, holding_rate) < 0:
        raise Invalid("os valores não podem ser negativos")
    rate = carrying_rate(selic_percent, holding_rate)
    annual = mean_daily * DAYS_PER_YEAR
    q = float(economic_order_quantity(_one(annual), order_cost, _one(unit_cost), rate)[0])
    finite = bool(np.isfinite(q))
    return EoqResult(annual, rate, q if finite else None, (annual / q) if finite and q > 0 else None)


@dataclass(frozen=True)
class BaselineResult:
    safety_stock: float
    reorder_point: float


def design_baseline(
    mean_daily: float, sigma_daily: float, lead_time_days: float, context_factor: float
) -> BaselineResult:
    """The design document's formula, kept as the cycle's named baseline: SS = 1.65 σ √LT × factors."""
    try:
        levels = baseline_levels(_one(mean_daily), _one(sigma_daily), _one(lead_time_days), _one(context_factor))
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    return BaselineResult(float(levels.safety_stock[0]), float(levels.reorder_point[0]))
