"""The design's baseline formula and the alert rules, against hand-computed cases."""

import numpy as np
import pytest

from nova_assets.lib.inventory.alerts import Severity, br_number, evaluate
from nova_assets.lib.inventory.reorder import baseline_levels


def test_baseline_matches_the_design_formula() -> None:
    # SS = 1.65 * 4 * sqrt(9) = 19.8; PP = 10 * 9 + 19.8 = 109.8
    levels = baseline_levels(mean_demand=10, sigma_demand=4, lead_time=9)
    assert float(levels.safety_stock) == pytest.approx(19.8)
    assert float(levels.reorder_point) == pytest.approx(109.8)


def test_baseline_context_factor_scales_safety_stock_only() -> None:
    plain = baseline_levels(10, 4, 9)
    rainy = baseline_levels(10, 4, 9, context_factor=1.3)
    assert float(rainy.safety_stock) == pytest.approx(float(plain.safety_stock) * 1.3)
    assert float(rainy.reorder_point - rainy.safety_stock) == pytest.approx(90.0)


def test_baseline_is_vectorised_and_rejects_negative_inputs() -> None:
    levels = baseline_levels(np.array([0.0, 2.0]), np.array([0.0, 1.0]), np.array([5.0, 4.0]))
    np.testing.assert_allclose(levels.reorder_point, [0.0, 8 + 1.65 * 2])
    with pytest.raises(ValueError):
        baseline_levels(-1, 0, 10)


def test_critical_when_stockout_comes_before_a_new_order() -> None:
    # The design's example: stock 65 below PP 141.5, out of stock in 2.6 days, supplier needs 7.
    alert = evaluate(
        65,
        141.5,
        days_until_stockout=2.6,
        days_until_reorder_point=0,
        lead_time_days=7,
        order_quantity=300,
        watch_days=7,
    )
    assert alert.severity is Severity.CRITICO
    assert alert.message == "Estoque 65 <= PP 141,5"
    assert alert.action == "COMPRAR 300 unidades em até 2 dias"
    assert alert.detail == "ruptura prevista em 2,6 dias, entrega do fornecedor em 7 dias: pedir entrega urgente"


def test_high_when_an_order_placed_within_the_slack_still_arrives() -> None:
    # stockout in 20 days, lead time 7: order within 13 days
    alert = evaluate(120, 141.5, 20, 0, 7, 279.2, watch_days=7)
    assert alert.severity is Severity.ALTO
    assert alert.order_quantity == 280
    assert alert.action == "COMPRAR 280 unidades em até 13 dias"


def test_no_slack_left_means_today() -> None:
    assert evaluate(120, 141.5, 7.4, 0, 7, 10, watch_days=7).action == "COMPRAR 10 unidades hoje"


def test_below_the_point_without_a_forecast_stockout_still_says_what_to_buy() -> None:
    alert = evaluate(2, 3, float("inf"), 0, 7, 4, watch_days=7)
    assert alert.severity == Severity.ALTO
    assert alert.action == "COMPRAR 4 unidades (sem ruptura prevista)"


@pytest.mark.parametrize(
    ("position", "days_to_pp", "expected"),
    [(160, 3.0, Severity.MEDIO), (160, 7.0, Severity.MEDIO), (160, 7.5, Severity.OK), (1700.5, np.inf, Severity.OK)],
)
def test_watch_band_and_ok(position: float, days_to_pp: float, expected: Severity) -> None:
    alert = evaluate(position, 141.5, 30, days_to_pp, 7, 0, watch_days=7)
    assert alert.severity is expected
    assert alert.order_quantity == 0


def test_nothing_to_protect_is_ok() -> None:
    # no demand: reorder point 0, position 0, nothing to order
    assert evaluate(0, 0, np.inf, 0, 7, 0, watch_days=7).severity is Severity.OK


def test_severity_ranks_order_the_escalations() -> None:
    assert [s.rank for s in (Severity.OK, Severity.MEDIO, Severity.ALTO, Severity.CRITICO)] == [0, 1, 2, 3]


def test_brazilian_number_format() -> None:
    assert evaluate(1234.5, 2000, 1, 0, 7, 3000, watch_days=7).message == "Estoque 1.234,5 <= PP 2.000"
    assert br_number(float("inf")) == "∞"
