"""Reorder-point formula and alert rules against hand-computed cases."""

import math

import pytest

from nova_assets.lib.inventory.alerts import Severity, evaluate
from nova_assets.lib.inventory.reorder import baseline_policy


def test_baseline_policy_matches_the_design_formula() -> None:
    # SS = 1.65 * 4 * sqrt(9) = 19.8; PP = 10 * 9 + 19.8 = 109.8
    policy = baseline_policy(mean_daily_demand=10, sigma_daily_demand=4, lead_time_days=9, stock_position=150)
    assert policy.safety_stock == pytest.approx(19.8)
    assert policy.reorder_point == pytest.approx(109.8)
    assert policy.days_until_stockout == pytest.approx(15.0)
    assert policy.days_until_reorder_point == pytest.approx((150 - 109.8) / 10)


def test_baseline_policy_context_factor_scales_safety_stock_only() -> None:
    plain = baseline_policy(10, 4, 9, 150)
    rainy = baseline_policy(10, 4, 9, 150, context_factor=1.3)
    assert rainy.safety_stock == pytest.approx(plain.safety_stock * 1.3)
    assert rainy.reorder_point - rainy.safety_stock == pytest.approx(90.0)


def test_no_demand_means_no_stockout() -> None:
    policy = baseline_policy(0, 0, 10, 5)
    assert policy.reorder_point == 0 and math.isinf(policy.days_until_stockout)


def test_negative_inputs_are_rejected() -> None:
    with pytest.raises(ValueError):
        baseline_policy(-1, 0, 10, 5)


def test_critical_when_stockout_comes_before_a_new_order() -> None:
    alert = evaluate(stock_position=65, reorder_point=141.5, days_until_stockout=2.6, lead_time_days=7,
                     order_up_to=365)
    assert alert.severity is Severity.CRITICO
    assert alert.message == "Estoque 65 <= PP 141,5"
    assert alert.action == "COMPRAR 300 unidades em até 2 dias"
    assert alert.order_quantity == 300


def test_high_when_below_reorder_point_but_order_arrives_in_time() -> None:
    alert = evaluate(stock_position=120, reorder_point=141.5, days_until_stockout=20, lead_time_days=7,
                     order_up_to=400)
    assert alert.severity is Severity.ALTO
    assert alert.order_quantity == 280


@pytest.mark.parametrize(("position", "expected"), [(160, Severity.MEDIO), (1700.5, Severity.OK)])
def test_watch_band_and_ok(position: float, expected: Severity) -> None:
    alert = evaluate(position, 141.5, 30, 7, 400)
    assert alert.severity is expected
    assert alert.order_quantity == 0


def test_thousands_use_brazilian_separators() -> None:
    assert evaluate(1234.5, 2000, 1, 7, 3000).message == "Estoque 1.234,5 <= PP 2.000"
