"""Metric definitions checked against hand-computed cases (same formulas as the public benchmarks)."""

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.forecasting.demand_class import SPARSE, DemandClass, classify, sparse_rows
from nova_assets.lib.forecasting.metrics import (
    aggregate_bias,
    mape,
    paired_difference,
    score_windows,
    smape,
    window_scales,
)
from tests.unit.forecast_data import history


def _scales(values: list[float], season: int) -> pd.Series:
    """The MASE/RMSSE scales of one series' whole history (cutoff at its last period)."""
    frame = history({"A": np.array(values, dtype=float)})
    keys = pd.DataFrame({"unique_id": ["A"], "cutoff": [frame["ds"].max()]})
    return window_scales(keys, frame, season).iloc[0]


def _window(train: np.ndarray, actual: np.ndarray, forecast: np.ndarray, season: int) -> dict[str, float]:
    """Scores of one forecast window after `train` (the vectorised code on one series)."""
    frame = history({"A": np.r_[train, actual]})
    cutoff = frame["ds"].iloc[len(train) - 1]
    rows = frame[frame["ds"] > cutoff].assign(cutoff=cutoff, model="M", forecast=forecast)
    return score_windows(frame, rows, season).iloc[0].to_dict()


def _reference_scores(train: np.ndarray, actual: np.ndarray, forecast: np.ndarray, season: int) -> dict[str, float]:
    """The definitions written out for one series, loop style, as the oracle of the vectorised code."""
    error = forecast - actual
    mae_scale = np.mean(np.abs(train[season:] - train[:-season])) if len(train) > season else np.nan
    nonzero = np.flatnonzero(train)
    sq_scale = np.mean(np.diff(train[nonzero[0] :]) ** 2) if len(nonzero) and len(train) - nonzero[0] >= 2 else np.nan
    mean = np.mean(train)
    return {
        "mase": np.mean(np.abs(error)) / mae_scale if mae_scale > 0 else np.nan,
        "rmsse": np.sqrt(np.mean(error**2) / sq_scale) if sq_scale > 0 else np.nan,
        "smape": smape(actual, forecast),
        "mape": mape(actual, forecast),
        "total_demand_error": abs(error.sum()) / (len(error) * mean) if mean > 0 else np.nan,
        "sum_forecast": forecast.sum(),
        "sum_actual": actual.sum(),
    }


def test_seasonal_scale_uses_lag_m_differences() -> None:
    # |1-1| + |2-2| + |7-4| over 3 differences at lag 3
    assert _scales([1.0, 2.0, 4.0, 1.0, 2.0, 7.0], 3)["mae_scale"] == pytest.approx(1.0)
    assert np.isnan(_scales([1.0, 2.0, 4.0], 3)["mae_scale"])  # no lag-3 difference yet


def test_rmsse_scale_starts_at_first_nonzero() -> None:
    # diffs from index 2: -2, 4 -> mean of squares 10
    assert _scales([0.0, 0.0, 2.0, 0.0, 4.0], 1)["sq_scale"] == pytest.approx(10.0)
    assert np.isnan(_scales([0.0, 0.0, 0.0, 3.0], 1)["sq_scale"])  # one point from the first demand on


def test_series_scores_by_hand() -> None:
    history_ = np.array([0.0, 2.0, 0.0, 2.0])
    actual = np.array([2.0, 0.0])
    forecast = np.array([1.0, 1.0])
    scores = _window(history_, actual, forecast, season=1)
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
    history_ = np.array([0, 0, 3, 0, 0, 0, 5, 0, 0, 0, 0, 4], dtype=float)
    actual = np.array([0, 0, 6, 0], dtype=float)
    zero = _window(history_, actual, np.zeros(4), season=1)
    mean = _window(history_, actual, np.full(4, history_.mean()), season=1)
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
    values = {
        "A": rng.poisson(3, 60),
        "B": np.r_[np.zeros(50), rng.poisson(1, 10)],
        "C": np.zeros(60),
        "D": rng.poisson(0.5, 45),  # starts later: NaN before its first period in the panel
    }
    frame = history(values)
    rows = []
    for cutoff in frame["ds"].sort_values().unique()[[39, 49]]:
        window = frame[(frame["ds"] > cutoff) & (frame["ds"] <= cutoff + pd.Timedelta(days=10))]
        for model, scale in (("M1", 1.0), ("M2", 0.0)):
            rows.append(window.assign(cutoff=cutoff, model=model, forecast=window["y"] * scale + rng.uniform(0, 1)))
    predictions = pd.concat(rows, ignore_index=True)
    scores = score_windows(frame, predictions, season=7).set_index(["unique_id", "model", "cutoff"])
    assert len(scores) == 4 * 2 * 2
    for (uid, model, cutoff), window in predictions.groupby(["unique_id", "model", "cutoff"]):
        train = frame.loc[(frame["unique_id"] == uid) & (frame["ds"] <= cutoff), "y"].to_numpy()
        expected = _reference_scores(train, window["y"].to_numpy(), window["forecast"].to_numpy(), season=7)
        got = scores.loc[(uid, model, cutoff)]
        for name, value in expected.items():
            assert got[name] == pytest.approx(value, nan_ok=True), (uid, model, name)


def test_paired_difference_counts_a_series_once_however_many_windows_it_has() -> None:
    mean, z = paired_difference(np.array([1.0, 3.0, np.nan]), np.array(["a", "b", "c"]))
    assert mean == pytest.approx(2.0) and z == pytest.approx(2.0 / (np.sqrt(2.0) / 2))
    # the same differences twice per series (overlapping origins): the same mean and the same z
    twice = paired_difference(np.array([1.0, 1.0, 3.0, 3.0]), np.array(["a", "a", "b", "b"]))
    assert twice == pytest.approx((mean, z))
    assert paired_difference(np.array([-1.0, -1.0]), np.array(["a", "b"])) == (-1.0, -np.inf)
    assert paired_difference(np.zeros(3), np.array(["a", "b", "c"])) == (0.0, 0.0)
