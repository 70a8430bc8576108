"""Safety stock, service targets, lead-time demand, EOQ and context, against hand-computed cases."""

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from stockpyl.eoq import economic_order_quantity as stockpyl_eoq
from stockpyl.loss_functions import standard_normal_loss as stockpyl_loss

from nova_assets.lib.inventory.choices import Measure, OrderRule, ServiceTarget, parse_targets
from nova_assets.lib.inventory.context import Conditions, calendar_lead_time, compound, design_factors
from nova_assets.lib.inventory.lead_time_demand import (
    CompoundDemand,
    CycleDemand,
    NormalLTD,
    forecast_error_sigma,
    sigma_lead_time_demand,
)
from nova_assets.lib.inventory.policy import PolicySettings, days_until, project_policy
from nova_assets.lib.inventory.reorder import carrying_rate, economic_order_quantity
from nova_assets.lib.inventory.service import (
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


def test_cycle_demand_levels_quantile_and_fill_rate() -> None:
    draws = np.array([[0, 0, 0, 0, 0, 0, 0, 0, 5, 10]], dtype=float)
    cycle = CycleDemand(cover=draws, lead=np.zeros_like(draws), cycle=draws)
    csl, fill = np.array([False]), np.array([True])
    # CSL 90 %: the 9th of 10 sorted draws covers exactly 90 %, whatever the rounding draw
    for u in (0.0, 0.99):
        assert cycle.order_up_to(csl, np.array([0.9]), np.array([u]))[0, 0] == 5
        assert cycle.order_up_to(csl, np.array([0.8]), np.array([u]))[0, 0] == 0
    # fill rate of S: 1 - E[(X - S)+] / E[X] (no lead-time demand): S = 0 -> 0, S = 5 -> 2/3, S = 10 -> 1
    assert cycle.order_up_to(fill, np.array([2 / 3]), np.array([0.99]))[0, 0] == 5
    assert cycle.order_up_to(fill, np.array([0.9]), np.array([0.5]))[0, 0] == 10
    # 50 % lies between S = 0 (fill 0) and S = 5 (2/3): S = 5 with probability 0.5 / (2/3) = 0.75
    assert cycle.order_up_to(fill, np.array([0.5]), np.array([0.74]))[0, 0] == 5
    assert cycle.order_up_to(fill, np.array([0.5]), np.array([0.76]))[0, 0] == 0


def test_rounding_between_support_points_keeps_the_expected_coverage() -> None:
    # one-unit demands: cover is 1 (64 %) or 2 (96 %) or 3; a 90 % target mixes 1 and 2 over items
    draws = np.tile(np.array([1.0] * 64 + [2.0] * 32 + [3.0] * 4), (1000, 1))
    cycle = CycleDemand(cover=draws, lead=draws - 1, cycle=np.ones_like(draws))
    uniform = (np.arange(1000) + 0.5) / 1000
    levels = cycle.order_up_to(np.zeros(1000, bool), np.full(1000, 0.9), uniform)[0]
    coverage = np.where(levels >= 2, 0.96, 0.64).mean()
    assert coverage == pytest.approx(0.9, abs=0.002)
    assert set(np.unique(levels)) == {1.0, 2.0}


def test_compound_demand_fits_the_whole_history_and_survives_short_and_empty_ones() -> None:
    history = np.array(
        [
            [np.nan] * 10,  # never observed
            [0.0] * 10,  # observed, never demanded
            [np.nan] * 9 + [4.0],  # one period: its first demand
            [2.0, 0, 0, 0, 1, 0, 0, 0, 3, 0],  # opens with a demand (the long-table convention)
        ]
    )
    model = CompoundDemand.fit(history)
    # no demand: p = 0, nothing to hold; the first demand is not counted as an occurrence
    assert model.occurrence[0] == 0 and model.occurrence[1] == 0
    assert model.occurrence[2] == pytest.approx(0.5 / 1.0)  # Jeffreys prior, no period after the first
    assert model.occurrence[3] == pytest.approx((2 + 0.5) / (9 + 1))
    assert model.size_mean[3] == pytest.approx(2.0) and model.integer.all()
    draws = model.cycle_draws(np.full((4, 200), 2), np.array([0.5, 0.5, 0.5, 0.5]), np.random.default_rng(0))
    assert np.all(draws.cover[:2] == 0)
    assert np.all(draws.cover[2:] >= 1) and np.all(draws.cover == np.rint(draws.cover))  # whole units
    # every cycle begins with its trigger demand: cover = cycle + lead-time demand, cycle >= Q
    np.testing.assert_allclose(draws.cover, draws.cycle + draws.lead)
    assert np.all(draws.cycle[2:] >= 0.5)


def test_cycle_draws_are_conditional_on_the_trigger_demand() -> None:
    # one-unit demands with p = 0.2 per period, lead time 2 periods, Q < 1: every demand triggers, so a
    # cycle covers 1 + Binomial(2, 0.2) units; the unconditional 3-period demand has 51 % zeros instead
    history = np.zeros((1, 4000))
    history[0, np.random.default_rng(1).random(4000) < 0.2] = 1.0
    known = np.array([1e9])  # evidence: no parameter uncertainty
    model = CompoundDemand(np.array([0.2]), np.array([1.0]), np.array([1e-9]), np.array([True]), known, known)
    draws = model.cycle_draws(np.full((1, 20000), 2), np.array([0.5]), np.random.default_rng(2))
    share = [np.mean(draws.cover == k) for k in (1, 2, 3)]
    np.testing.assert_allclose(share, [0.64, 0.32, 0.04], atol=0.01)
    assert CompoundDemand.fit(history).occurrence[0] == pytest.approx(0.2, abs=0.02)


def test_compound_rescaled_moves_the_level_occurrence_first() -> None:
    model = CompoundDemand(
        np.array([0.2, 0.5, 0.0]), np.array([2.0, 4.0, 0.0]), np.full(3, 0.3), np.ones(3, bool), *np.zeros((2, 3))
    )
    moved = model.rescaled(np.array([0.8, 4.0, 0.25]))
    np.testing.assert_allclose(moved.mean, [0.8, 4.0, 0.25])
    assert moved.size_mean[0] == 2.0 and moved.occurrence[0] == pytest.approx(0.4)  # occurrence moved
    assert moved.occurrence[1] == 1.0 and moved.size_mean[1] == 4.0  # demand every period, larger sizes
    assert moved.occurrence[2] == 0.25 and moved.size_mean[2] == 1.0  # no history: one-unit demands


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
    # the embedded defaults of the NOVA_* inventory settings, written out: the hand computations use them
    settings = PolicySettings(
        targets=parse_targets("A=csl:0.98,B=csl:0.95,C=fill_rate:0.95"),
        order_rule=OrderRule.EOQ,
        cover_days=30.0,
        order_cost_brl=150.0,
        context_multiplier=False,
        context_cap=1.5,
    )
    history = np.zeros((3, 10))
    out = project_policy(
        items, CompoundDemand.fit(history), np.full((3, 50), 5), settings, 0.25, np.random.default_rng(0)
    )
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
    # M3: no demand at all -> the compound model holds nothing
    assert out.at["M3", "method"] == "compound" and out.at["M3", "reorder_point"] == 0
    assert out.at["M3", "order_up_to"] == 0


def test_days_until_walks_the_forecast_path_with_receipts() -> None:
    demand = np.full((2, 10), 10.0)
    receipts = np.zeros((2, 10))
    receipts[1, 2] = 50.0  # arrives at the start of day 3
    days = days_until(np.array([40.0, 0.0]), np.array([100.0, 25.0]), demand, receipts)
    assert days[0] == pytest.approx(6.0)  # 100 -> 40 after 6 days of 10
    assert days[1] == pytest.approx(7.5)  # 25 lasts 2.5 days... but 50 arrive on day 3: 75 - 10/day -> 7.5
    assert days_until(np.array([0.0]), np.array([5.0]), np.zeros((1, 5)), np.zeros((1, 5)))[0] == np.inf
