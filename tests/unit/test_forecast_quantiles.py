"""Demand quantiles from backtest errors: ordered, non-decreasing over the lead time, and covering."""

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.forecasting.metrics import interval_coverage
from nova_assets.lib.forecasting.quantiles import fit_error_quantiles, forecast_quantiles
from tests.unit.forecast_data import history

RATES = np.linspace(0.2, 6.0, 60)
HORIZON = 14


def _panel(seed: int, periods: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return history({f"S{i}": rng.poisson(rate, periods).astype(float) for i, rate in enumerate(RATES)})


def _mean_forecast(frame: pd.DataFrame, cutoff: pd.Timestamp | None = None) -> pd.DataFrame:
    """The true rate as point forecast for the HORIZON days after `cutoff` (or after the end)."""
    start = (cutoff if cutoff is not None else frame["ds"].max()) + pd.Timedelta(days=1)
    dates = pd.date_range(start, periods=HORIZON)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"S{i}" for i in range(len(RATES))], HORIZON),
            "ds": np.tile(dates, len(RATES)),
            "forecast": np.repeat(RATES, HORIZON),
            "demand_class": "smooth",
        }
    )


def _backtest(frame: pd.DataFrame, n_windows: int) -> pd.DataFrame:
    cutoffs = [frame["ds"].max() - pd.Timedelta(days=HORIZON * k) for k in range(n_windows, 0, -1)]
    windows = [_mean_forecast(frame, c).assign(cutoff=c) for c in cutoffs]
    return pd.concat(windows).merge(frame, on=["unique_id", "ds"])


def test_quantiles_are_ordered_and_cumulative_ones_never_decrease() -> None:
    frame = _panel(0, 200)
    errors = fit_error_quantiles(_backtest(frame, 6), frame)
    table = forecast_quantiles(frame, _mean_forecast(frame), errors)
    assert (table["p50"] <= table["p90"]).all() and (table["p90"] <= table["p95"]).all()
    assert (table["cum_p50"] <= table["cum_p90"]).all() and (table["cum_p90"] <= table["cum_p95"]).all()
    assert (table[["p50", "p90", "p95", "cum_p50"]] >= 0).all().all()
    for _, rows in table.groupby("unique_id"):
        assert (np.diff(rows.sort_values("step")["cum_p95"]) >= 0).all()


def test_quantiles_cover_fresh_demand_at_their_level() -> None:
    past = _panel(1, 300)
    errors = fit_error_quantiles(_backtest(past, 10), past)
    table = forecast_quantiles(past, _mean_forecast(past), errors)
    coverage = []
    for seed in range(2, 12):  # fresh futures of the same process
        future = _mean_forecast(past).assign(y=np.random.default_rng(seed).poisson(np.repeat(RATES, HORIZON)))
        coverage.append(interval_coverage(future, table, (0.5, 0.9, 0.95)))
    mean = pd.DataFrame(coverage).mean()
    assert mean["coverage_p90"] == pytest.approx(0.9, abs=0.05)
    assert mean["coverage_cum_p90"] == pytest.approx(0.9, abs=0.07)
    assert mean["coverage_cum_p95"] == pytest.approx(0.95, abs=0.05)
    assert mean["coverage_cum_p50"] == pytest.approx(0.5, abs=0.12)


def test_each_window_is_scaled_by_the_spread_of_its_series_up_to_its_cutoff() -> None:
    from nova_assets.lib.forecasting.quantiles import SeriesSpread

    frame = _panel(4, 50)
    ends = frame["ds"].min() + pd.to_timedelta([-1, 0, 9, 30, 49, 80], unit="D")
    keys = pd.DataFrame({"unique_id": ["S5", "S5", "S7", "S59", "S0", "S3"], "cutoff": ends})
    keys.loc[len(keys)] = ["unknown", ends[3]]
    expected = [
        np.std(frame[(frame["unique_id"] == uid) & (frame["ds"] <= cutoff)]["y"]) if uid != "unknown" else 0.0
        for uid, cutoff in keys.itertuples(index=False)
    ]
    expected = np.nan_to_num(expected)  # no observation up to the cutoff: 0
    spread = SeriesSpread.build(frame)
    assert spread.sigmas(keys) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    whole = spread.sigmas(keys[["unique_id"]])
    assert whole[4] == pytest.approx(np.std(frame[frame["unique_id"] == "S0"]["y"]), rel=1e-12)


def test_a_one_period_lead_time_has_the_periods_own_quantiles() -> None:
    """The first step's errors are smaller than the later steps' here, so its own quantiles would differ."""
    frame = _panel(5, 200)
    backtest = _backtest(frame, 6)
    first = backtest["ds"] == backtest["cutoff"] + pd.Timedelta(days=1)
    backtest.loc[first, "forecast"] = backtest.loc[first, "y"]  # exact at step 1
    errors = fit_error_quantiles(backtest, frame)
    table = forecast_quantiles(frame, _mean_forecast(frame), errors)
    one = table[table["step"] == 1]
    for column in ("p50", "p90", "p95"):
        assert one[f"cum_{column}"].to_numpy() == pytest.approx(one[column].to_numpy())
    assert (table["cum_p95"] > table["p95"])[table["step"] == HORIZON].all()
