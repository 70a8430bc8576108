"""Calibration of the nominal service level on simulated service: the map, its use in the
backtest (from the past only), and the coverage it reaches where the true demand is known."""

import numpy as np
import pandas as pd
import pytest
from scipy import special

from nova_assets.lib.inventory.backtest_report import run_backtest
from nova_assets.lib.inventory.calibration import GRID, PRIOR_CYCLES, ServiceCalibration
from nova_assets.lib.inventory.lead_time_demand import uniform_per_item
from nova_assets.lib.inventory.simulation import CalibratedPolicy, ProjectSimPolicy, Simulation, cover_quantity


def _recorded(shift: float, cycles: float) -> ServiceCalibration:
    """Shadows whose cycle service sits `shift` below the nominal level in logit space."""
    calibration = ServiceCalibration()
    achieved = special.expit(special.logit(np.array(GRID)) - shift)
    k = len(GRID)
    method, is_fill = np.array(["compound"]), np.array([False])
    ones = np.ones((k, 1))
    calibration.record(method, is_fill, ones * cycles, (1 - achieved)[:, None] * cycles, ones, ones)
    return calibration


def test_the_map_reads_the_achieved_curve_backwards() -> None:
    calibration = _recorded(shift=0.5, cycles=1e7)
    targets = np.array([0.9, 0.95, 0.98])
    nominal = calibration.nominal(targets, np.array(["compound"] * 3), np.zeros(3, bool))
    np.testing.assert_allclose(nominal, special.expit(special.logit(targets) + 0.5), atol=1e-4)
    # another group (normal items, fill-rate targets) has no evidence: the target itself
    assert calibration.nominal(np.array([0.95]), np.array(["normal"]), np.array([True]))[0] == pytest.approx(0.95)
    # several target rows at once (a curve), and the frame round trip the daily cycle uses
    again = ServiceCalibration.from_frame(calibration.frame())
    rows = again.nominal(np.array([[0.9], [0.98]]), np.array(["compound"]), np.array([False]))
    np.testing.assert_allclose(rows[:, 0], nominal[[0, 2]], atol=1e-6)


def test_little_evidence_keeps_the_map_near_the_identity() -> None:
    target = np.array([0.95])
    weak = _recorded(shift=0.5, cycles=PRIOR_CYCLES / 10)
    strong = _recorded(shift=0.5, cycles=PRIOR_CYCLES * 100)
    nominal = [c.nominal(target, np.array(["compound"]), np.array([False]))[0] for c in (weak, strong)]
    assert 0.95 < nominal[0] < nominal[1] < 0.98


def _compound_demand(n: int, periods: int, seed: int) -> np.ndarray:
    """Independent periods: demand with probability 0.25, of 1 + Poisson(1.5) units."""
    rng = np.random.default_rng(seed)
    return (rng.random((n, periods)) < 0.25) * (1.0 + rng.poisson(1.5, (n, periods)))


@pytest.mark.parametrize(("measure", "target"), [("csl", 0.90), ("csl", 0.98), ("fill_rate", 0.95)])
def test_calibrated_policy_reaches_the_target_on_known_demand(measure: str, target: float) -> None:
    demand = _compound_demand(300, 60, seed=11)
    n = demand.shape[0]
    sim = Simulation(demand, np.full(n, 2.0), np.zeros(n), warmup=12)
    result = run_backtest(sim, "M", np.array([measure] * n), np.full(n, target), cover_quantity(1.0))
    project = result.summary.set_index("policy").loc["project"]
    reached = project["cycle_service_level"] if measure == "csl" else project["fill_rate"]
    assert abs(reached - target) <= 0.02
    # the shadows recorded every grid level of the compound model at this measure
    frame = result.calibration[(result.calibration["method"] == "compound") & (result.calibration["cycles"] > 0)]
    assert sorted(frame["nominal_level"]) == list(GRID) and set(frame["service_measure"]) == {measure}


def test_calibration_corrects_a_model_that_misses_clustered_demand() -> None:
    # demand comes in bursts (P(demand | demand before) = 0.7, else 0.08): periods are not independent,
    # and a policy fitted per item on a few years of it falls short; the calibration closes most of the gap
    rng = np.random.default_rng(4)
    n, periods = 300, 60
    on = np.zeros((n, periods), bool)
    for t in range(1, periods):
        on[:, t] = rng.random(n) < np.where(on[:, t - 1], 0.7, 0.08)
    demand = on * (1.0 + rng.poisson(1.0, (n, periods)))
    sim = Simulation(demand, np.full(n, 2.0), np.zeros(n), warmup=12)
    reached = {}
    for calibrate in (False, True):
        result = run_backtest(
            sim, "M", np.array(["csl"] * n), np.full(n, 0.95), cover_quantity(1.0), calibrate=calibrate
        )
        reached[calibrate] = result.summary.set_index("policy").loc["project", "cycle_service_level"]
    assert reached[False] < 0.93
    assert abs(reached[True] - 0.95) < abs(reached[False] - 0.95) / 2


def test_decisions_use_no_demand_after_them() -> None:
    demand = _compound_demand(60, 40, seed=2)
    changed = demand.copy()
    changed[:, 30:] = 25.0  # a different future from period 30 on
    n = demand.shape[0]
    traces = []
    for values in (demand, changed):
        sim = Simulation(values, np.full(n, 1.0), np.zeros(n), warmup=10)
        base = ProjectSimPolicy(
            lead_time=sim.lead_time,
            lead_time_std=sim.lead_time_std,
            is_fill=np.zeros(n, bool),
            level=np.full(n, 0.95),
            window=12,
            history_window=24,
            order_quantity=cover_quantity(1.0),
            uniform=uniform_per_item(pd.RangeIndex(n)),
        )
        policy = CalibratedPolicy(base, np.full((1, n), 0.95))
        traces.append(sim.trace(policy))
    # orders placed up to period 29 (decided on data up to 29) are the same in both histories
    np.testing.assert_array_equal(traces[0]["ordered"][:n, :30], traces[1]["ordered"][:n, :30])
    assert not np.array_equal(traces[0]["ordered"][:n, 30:], traces[1]["ordered"][:n, 30:])


def test_the_backtest_returns_service_fill_and_stock_per_curve_target() -> None:
    demand = _compound_demand(120, 48, seed=5)
    n = demand.shape[0]
    sim = Simulation(demand, np.full(n, 1.0), np.zeros(n), warmup=12, unit_cost=np.full(n, 10.0))
    targets = (0.90, 0.95, 0.98)
    result = run_backtest(sim, "M", np.array(["csl"] * n), np.full(n, 0.95), cover_quantity(1.0), curve_targets=targets)
    curve = result.curve
    assert list(curve["service_target"]) == list(targets)
    assert curve["cycle_service_level"].is_monotonic_increasing and curve["avg_on_hand"].is_monotonic_increasing
    assert curve["fill_rate"].between(0, 1).all() and (curve["items"] == n).all()
    # each point of service costs stock: value per point = extra stock value / extra points reached
    extra = curve["avg_inventory_value"].diff() / (100 * curve["cycle_service_level"].diff())
    np.testing.assert_allclose(curve["value_per_point"].iloc[1:], extra.iloc[1:])
    # the items' own target is the summary's; the curve does not leak into the per-item rows
    assert len(result.per_item) == 2 * n
