"""Safety stock, service targets, lead-time demand, EOQ and context, against hand-computed cases."""

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from stockpyl.eoq import economic_order_quantity as stockpyl_eoq
from stockpyl.loss_functions import standard_normal_loss as stockpyl_loss

from nova_assets.lib.inventory.context import Conditions, calendar_lead_time, compound, design_factors
from nova_assets.lib.inventory.lead_time_demand import (
    EmpiricalLTD,
    NormalLTD,
    block_bootstrap,
    forecast_error_sigma,
    sigma_lead_time_demand,
)
from nova_assets.lib.inventory.policy import OrderRule, PolicySettings, days_until, project_policy
from nova_assets.lib.inventory.reorder import carrying_rate, economic_order_quantity
from nova_assets.lib.inventory.service import (
    Measure,
    ServiceTarget,
    parse_targets,
    standard_normal_loss,
    z_cycle_service,
    z_fill_rate,
)


def test_sigma_ltd_combines_demand_and_lead_time_noise() -> None:
    # sqrt(9 * 4^2 + 10^2 * 2^2) = sqrt(144 + 400) = sqrt(544)
    assert float(sigma_lead_time_demand(9, 4, 10, 2)) == pytest.approx(math.sqrt(544))
    # without lead-time noise it is sigma_d * sqrt(L)
    assert float(sigma_lead_time_demand(16, 3, 10, 0)) == pytest.approx(12.0)


def test_z_for_a_cycle_service_level_is_the_normal_quantile() -> None:
    assert float(z_cycle_service(0.95)) == pytest.approx(1.644854, abs=1e-6)
    assert float(z_cycle_service(0.98)) == pytest.approx(2.053749, abs=1e-6)


@pytest.mark.parametrize("z", [-1.0, 0.0, 0.5, 1.33, 2.5])
def test_normal_loss_matches_stockpyl(z: float) -> None:
    assert float(standard_normal_loss(z)) == pytest.approx(stockpyl_loss(z)[0], abs=1e-12)


def test_fill_rate_z_solves_the_loss_equation() -> None:
    # fill 98 %, Q = 100, sigma_LTD = 50: G(z) = 0.02 * 100 / 50 = 0.04 -> z ~ 1.3602
    z = z_fill_rate(np.array([0.98]), np.array([100.0]), np.array([50.0]))
    assert float(standard_normal_loss(z[0])) == pytest.approx(0.04, abs=1e-9)
    assert float(z[0]) == pytest.approx(1.3602, abs=1e-3)


def test_fill_rate_z_is_floored_at_zero_and_capped() -> None:
    # a huge order quantity would allow a negative safety stock: floored at 0
    z = z_fill_rate(np.array([0.9, 1 - 1e-13, 0.95]), np.array([1000.0, 1.0, 10.0]), np.array([10.0, 100.0, 0.0]))
    assert z[0] == 0.0 and z[1] == 6.0 and z[2] == 0.0


def test_normal_reorder_point_for_each_measure() -> None:
    ltd = NormalLTD(np.array([90.0, 90.0]), np.array([20.0, 20.0]))
    s = ltd.reorder_point(np.array([False, True]), np.array([0.95, 0.98]), np.array([100.0, 100.0]))
    assert s[0] == pytest.approx(90 + 1.644854 * 20, abs=1e-4)
    # fill 98 %: G(z) = 0.02 * 100 / 20 = 0.1 -> z = 0.9004
    assert standard_normal_loss((s[1] - 90) / 20) == pytest.approx(0.1, abs=1e-9)


def test_empirical_reorder_point_quantile_and_fill_rate() -> None:
    draws = np.array([[0, 0, 0, 0, 0, 0, 0, 0, 5, 10]], dtype=float)
    ltd = EmpiricalLTD(draws)
    # CSL 90 %: the 9th of 10 sorted draws
    assert ltd.reorder_point(np.array([False]), np.array([0.9]), np.array([10.0]))[0] == 5
    assert ltd.reorder_point(np.array([False]), np.array([0.8]), np.array([10.0]))[0] == 0
    # fill 90 % with Q = 10 allows 1 unit short per cycle: E[(X-0)+] = 1.5, E[(X-5)+] = 0.5 -> s = 5
    assert ltd.reorder_point(np.array([True]), np.array([0.9]), np.array([10.0]))[0] == 5
    # fill 85 % allows 1.5: s = 0 is enough
    assert ltd.reorder_point(np.array([True]), np.array([0.85]), np.array([10.0]))[0] == 0


def test_empirical_from_quantiles_reads_the_quantile_function() -> None:
    ltd = EmpiricalLTD.from_quantiles(np.array([0.0, 1.0]), np.array([[0.0, 100.0]]), n_draws=1000)
    assert ltd.mean[0] == pytest.approx(50.0)
    assert ltd.reorder_point(np.array([False]), np.array([0.95]), np.array([1.0]))[0] == pytest.approx(94.95)


def test_block_bootstrap_sums_consecutive_periods() -> None:
    history = np.array([[2.0] * 20, [np.nan] * 18 + [1.0, 3.0]])
    lengths = np.array([[3] * 50, [4] * 50])
    ltd = block_bootstrap(history, lengths, np.random.default_rng(0), first=np.array([0, 18]))
    assert np.all(ltd.samples[0] == 6.0)
    # two periods only: the window's rate (2 per period) times the block length
    assert np.all(ltd.samples[1] == 8.0)


def test_rescaled_keeps_the_shape_and_moves_the_level() -> None:
    ltd = EmpiricalLTD(np.array([[0.0, 2.0, 4.0], [0.0, 0.0, 0.0]])).rescaled(np.array([4.0, 5.0]))
    np.testing.assert_allclose(ltd.samples, [[0, 4, 8], [0, 0, 0]])


def test_forecast_error_sigma_from_cumulative_backtest_errors() -> None:
    days = pd.date_range("2025-01-01", periods=10)
    backtest = pd.DataFrame(
        {"unique_id": "A", "cutoff": pd.Timestamp("2024-12-31"), "ds": days, "y": 3.0, "forecast": 2.0}
    )
    sigma = forecast_error_sigma(backtest, pd.Series({"A": 3.0, "B": 3.0}))
    # error 1 per day, 3-day sums = 3 every time: RMS 3; unknown item B is NaN
    assert sigma["A"] == pytest.approx(3.0)
    assert math.isnan(sigma["B"])
    # a risk period longer than the window scales with sqrt(P / m): 10-day sums = 10, times sqrt(40/10)
    assert forecast_error_sigma(backtest, pd.Series({"A": 40.0}), min_blocks=1)["A"] == pytest.approx(20.0)


def test_eoq_with_a_selic_carrying_rate_matches_stockpyl() -> None:
    rate = carrying_rate(selic_percent=15.0, holding_premium=0.10)
    assert rate == pytest.approx(0.25)
    # D = 1200 / year, K = 150, c = 100 -> h = 25: EOQ = sqrt(2 * 1200 * 150 / 25) = 120
    q = economic_order_quantity(1200, 150, 100, rate)
    assert float(q) == pytest.approx(120.0)
    assert float(q) == pytest.approx(stockpyl_eoq(fixed_cost=150, holding_cost=25, demand_rate=1200)[0])
    assert np.isnan(economic_order_quantity(1200, 150, 0.0, rate))


def test_targets_parse_from_the_env_format() -> None:
    targets = parse_targets("A=csl:0.98, C=fill_rate:0.95")
    assert targets["A"] == ServiceTarget(Measure.CSL, 0.98)
    assert targets["C"].measure is Measure.FILL_RATE
    with pytest.raises(ValueError):
        parse_targets("A=probability:0.9")
    with pytest.raises(ValueError):
        parse_targets("A=csl:1.5")


def test_design_factors_compound_to_2_6_and_are_capped() -> None:
    wet_hot_humid_5g = Conditions(precipitation_mm=80, temp_max_c=37, humidity_pct=85, g5_growth=0.6)
    factors = design_factors(wet_hot_humid_5g, include_holidays=False)
    assert math.prod(factors.values()) == pytest.approx(1.3 * 1.15 * 1.2 * 1.45)  # 2.6
    assert compound(factors, cap=1.5) == 1.5
    # the design's holiday factor shrinks; the baseline keeps it, floored at 1 / cap
    assert design_factors(Conditions(major_holiday_ahead=True, holiday_ahead=True))["holiday"] == 0.75
    assert compound({"holiday": 0.5}, cap=1.5) == pytest.approx(1 / 1.5)
    assert compound(design_factors(Conditions()), cap=1.5) == 1.0


def test_holidays_lengthen_business_day_lead_times() -> None:
    friday = date(2025, 11, 14)
    # Mon 17, Tue 18, Wed 19, (Thu 20 holiday), Fri 21, Mon 24: 5 business days = 10 calendar days
    assert calendar_lead_time(friday, 5, frozenset({date(2025, 11, 20)})) == 10
    assert calendar_lead_time(friday, 5, frozenset()) == 7
    # half a business day is half the gap to the next one (Friday -> Monday = 3 days)
    assert calendar_lead_time(friday, 0.5, frozenset()) == 1.5


def test_project_policy_on_hand_computed_items() -> None:
    items = pd.DataFrame(
        {
            "criticality": ["B", "C", "A"],
            "unit_cost": [100.0, 0.0, 10.0],
            "mean_daily": [10.0, 10.0, 0.0],
            "sigma_daily": [4.0, 4.0, 0.0],
            "lead_time_days": [8.0, 8.0, 5.0],
            "lead_time_std_days": [2.0, 2.0, 1.0],
            "intermittent": [False, False, True],
            "on_hand": [50.0, 500.0, 0.0],
            "on_order": [20.0, 0.0, 0.0],
            "backorders": [5.0, 0.0, 0.0],
            "context_multiplier": [1.0, 1.0, 1.0],
        },
        index=["M1", "M2", "M3"],
    )
    empirical = EmpiricalLTD(np.zeros((3, 10)))
    # the embedded defaults of the NOVA_* inventory settings, written out: the hand computations use them
    settings = PolicySettings(
        targets=parse_targets("A=csl:0.98,B=csl:0.95,C=fill_rate:0.95"),
        order_rule=OrderRule.EOQ,
        cover_days=30.0,
        order_cost_brl=150.0,
        context_multiplier=False,
        context_cap=1.5,
    )
    out = project_policy(items, empirical, settings, rate=0.25)
    # M1: risk 9 days, E = 90, sigma = sqrt(9*16 + 100*4) = sqrt(544); CSL 95 % -> s = 90 + 1.6449 * 23.32
    assert out.at["M1", "reorder_point"] == pytest.approx(90 + stats.norm.ppf(0.95) * math.sqrt(544))
    # EOQ: D = 3650, K = 150, h = 25 -> sqrt(2 * 3650 * 150 / 25) = 209.28
    assert out.at["M1", "order_quantity"] == pytest.approx(math.sqrt(2 * 3650 * 150 / 25))
    assert out.at["M1", "stock_position"] == 65.0  # 50 + 20 - 5 backordered
    assert out.at["M1", "suggested_order"] == math.ceil(out.at["M1", "order_up_to"] - 65)
    # M2: no unit cost -> 30 days of cover; fill rate 95 %: G(z) = 0.05 * 300 / 23.3 = 0.64 > G(0), so
    # the big order alone meets the fill rate and z is floored at 0 (no negative safety stock)
    assert out.at["M2", "order_quantity"] == pytest.approx(300.0)
    assert out.at["M2", "reorder_point"] == pytest.approx(90.0)
    assert out.at["M2", "suggested_order"] == 0
    # M3: no demand at all -> bootstrap of zeros, nothing to hold
    assert out.at["M3", "method"] == "bootstrap" and out.at["M3", "reorder_point"] == 0


def test_days_until_walks_the_forecast_path_with_receipts() -> None:
    demand = np.full((2, 10), 10.0)
    receipts = np.zeros((2, 10))
    receipts[1, 2] = 50.0  # arrives at the start of day 3
    days = days_until(np.array([40.0, 0.0]), np.array([100.0, 25.0]), demand, receipts)
    assert days[0] == pytest.approx(6.0)  # 100 -> 40 after 6 days of 10
    assert days[1] == pytest.approx(7.5)  # 25 lasts 2.5 days... but 50 arrive on day 3: 75 - 10/day -> 7.5
    assert days_until(np.array([0.0]), np.array([5.0]), np.zeros((1, 5)), np.zeros((1, 5)))[0] == np.inf
