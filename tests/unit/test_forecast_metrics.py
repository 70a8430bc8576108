"""Metric definitions checked against hand-computed cases (same formulas as the public benchmarks)."""

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.forecasting.backtest import score_windows
from nova_assets.lib.forecasting.demand_class import SPARSE, DemandClass, classify, sparse_rows
from nova_assets.lib.forecasting.metrics import (
    aggregate_bias,
    mape,
    rmsse_scale,
    seasonal_mae_scale,
    series_scores,
    smape,
)
from tests.unit.forecast_data import history


def test_seasonal_scale_uses_lag_m_differences() -> None:
    history = np.array([1.0, 2.0, 4.0, 1.0, 2.0, 7.0])
    # |1-1| + |2-2| + |7-4| over 3 differences at lag 3
    assert seasonal_mae_scale(history, 3) == pytest.approx(1.0)


def test_rmsse_scale_starts_at_first_nonzero() -> None:
    history = np.array([0.0, 0.0, 2.0, 0.0, 4.0])
    # diffs from index 2: -2, 4 -> mean of squares 10
    assert rmsse_scale(history) == pytest.approx(10.0)


def test_series_scores_by_hand() -> None:
    history = np.array([0.0, 2.0, 0.0, 2.0])
    actual = np.array([2.0, 0.0])
    forecast = np.array([1.0, 1.0])
    scores = series_scores(history, actual, forecast, season=1)
    assert scores["mase"] == pytest.approx(1.0 / 2.0)  # MAE 1 over mean |diff| 2
    assert scores["rmsse"] == pytest.approx(np.sqrt(1.0 / 4.0))  # MSE 1 over mean diff² 4 (from index 1)
    assert scores["total_demand_error"] == pytest.approx(0.0)  # totals match: 2 vs 2
    assert aggregate_bias(scores["sum_forecast"], scores["sum_actual"]) == pytest.approx(0.0)


def test_smape_and_mape_only_where_defined() -> None:
    actual = np.array([0.0, 0.0, 4.0, 2.0])
    forecast = np.array([0.0, 1.0, 2.0, 2.0])
    # sMAPE skips the period where both are 0: (2 + 2*2/6 + 0) / 3
    assert smape(actual, forecast) == pytest.approx((2 + 2 / 3) / 3)
    # MAPE only where there was demand: (2/4 + 0) / 2
    assert mape(actual, forecast) == pytest.approx(0.25)
    assert np.isnan(mape(np.zeros(3), np.ones(3)))
    assert np.isnan(smape(np.zeros(3), np.zeros(3)))


def test_all_zero_forecast_is_not_rewarded_on_total_demand() -> None:
    history = np.array([0, 0, 3, 0, 0, 0, 5, 0, 0, 0, 0, 4], dtype=float)
    actual = np.array([0, 0, 6, 0], dtype=float)
    zero = series_scores(history, actual, np.zeros(4), season=1)
    mean = series_scores(history, actual, np.full(4, history.mean()), season=1)
    assert zero["mase"] < mean["mase"]  # why MASE alone misleads on intermittent demand
    assert zero["total_demand_error"] > mean["total_demand_error"]
    assert aggregate_bias(zero["sum_forecast"], zero["sum_actual"]) == -1.0


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        ([5, 6, 5, 7, 6, 5, 6, 5], DemandClass.SMOOTH),
        ([1, 30, 2, 25, 1, 40, 2, 1], DemandClass.ERRATIC),
        ([0, 0, 5, 0, 0, 6, 0, 0, 5, 0], DemandClass.INTERMITTENT),
        ([0, 0, 1, 0, 0, 40, 0, 0, 2, 0], DemandClass.LUMPY),
        ([0, 0, 0], DemandClass.NO_DEMAND),
    ],
)
def test_syntetos_boylan_classes(series: list[int], expected: DemandClass) -> None:
    assert classify(np.array(series, dtype=float))[0] is expected


def test_sparse_rows_agree_with_the_class_of_each_row() -> None:
    """The whole-matrix answer equals classifying each row's observed values one by one."""
    rng = np.random.default_rng(3)
    matrix = rng.poisson(rng.uniform(0.05, 6, (400, 1)), (400, 90)) * rng.integers(1, 20, (400, 90)).astype(float)
    matrix[rng.random((400, 90)) < 0.05] = 0.0
    matrix[np.arange(90)[None, :] < rng.integers(0, 80, 400)[:, None]] = np.nan  # late first observations
    matrix[:5] = 0.0  # no demand
    expected = [classify(row[~np.isnan(row)])[0] in SPARSE for row in matrix]
    assert sparse_rows(matrix).tolist() == expected
    assert 50 < sum(expected) < 350  # both kinds present


def test_window_scores_equal_series_scores_of_each_window() -> None:
    rng = np.random.default_rng(0)
    values = {"A": rng.poisson(3, 60), "B": np.r_[np.zeros(50), rng.poisson(1, 10)], "C": np.zeros(60)}
    frame = history(values)
    rows = []
    for cutoff in frame["ds"].sort_values().unique()[[39, 49]]:
        window = frame[(frame["ds"] > cutoff) & (frame["ds"] <= cutoff + pd.Timedelta(days=10))]
        for model, scale in (("M1", 1.0), ("M2", 0.0)):
            rows.append(window.assign(cutoff=cutoff, model=model, forecast=window["y"] * scale + rng.uniform(0, 1)))
    predictions = pd.concat(rows, ignore_index=True)
    scores = score_windows(frame, predictions, season=7).set_index(["unique_id", "model", "cutoff"])
    assert len(scores) == 3 * 2 * 2
    for (uid, model, cutoff), window in predictions.groupby(["unique_id", "model", "cutoff"]):
        train = frame.loc[(frame["unique_id"] == uid) & (frame["ds"] <= cutoff), "y"].to_numpy()
        expected = series_scores(train, window["y"].to_numpy(), window["forecast"].to_numpy(), season=7)
        got = scores.loc[(uid, model, cutoff)]
        for name, value in expected.items():
            assert got[name] == pytest.approx(value, nan_ok=True), (uid, model, name)
