"""The model families learn simple patterns, never see the future in the backtest, never go negative."""

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.forecasting.backtest import score_windows, summarise
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL, combine, equal_weights
from nova_assets.lib.forecasting.models import FAMILIES, ZERO_MODEL, cross_validate, fit_predict


def _history(values: dict[str, np.ndarray]) -> pd.DataFrame:
    frames = [pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2024-01-01", periods=len(v), freq="D"), "y": v})
              for uid, v in values.items()]
    return pd.concat(frames, ignore_index=True)


def test_intermittent_methods_learn_the_demand_rate() -> None:
    # one unit of 4 every 4th day: a rate of 1 per day
    history = _history({"A": np.tile([0.0, 0.0, 0.0, 4.0], 60)})
    forecast = fit_predict(history, FAMILIES["intermittent"], horizon=10, season=7)
    per_model = forecast.groupby("model")["forecast"].mean()
    assert set(per_model.index) == {"CrostonSBA", "TSB", "ADIDA", "IMAPA"}
    assert per_model.between(0.8, 1.25).all(), per_model


def test_seasonal_naive_repeats_the_week_and_zero_is_zero() -> None:
    week = np.array([5.0, 6, 7, 8, 9, 0, 0])
    history = _history({"A": np.tile(week, 10)})
    forecast = fit_predict(history, FAMILIES["baseline"], horizon=7, season=7)
    naive = forecast[forecast["model"] == "SeasonalNaive"].sort_values("ds")["forecast"].to_numpy()
    np.testing.assert_allclose(naive, week)
    assert (forecast.loc[forecast["model"] == ZERO_MODEL, "forecast"] == 0).all()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_backtest_never_sees_the_window_it_is_scored_on(family: str) -> None:
    rng = np.random.default_rng(0)
    base = rng.poisson(0.5, 200).astype(float)
    changed = base.copy()
    changed[-14:] += 50  # only the last window's actuals change
    first = cross_validate(_history({"A": base}), FAMILIES[family], horizon=14, season=7, n_windows=1)
    second = cross_validate(_history({"A": changed}), FAMILIES[family], horizon=14, season=7, n_windows=1)
    np.testing.assert_allclose(first["forecast"].to_numpy(), second["forecast"].to_numpy())
    assert (first["y"].to_numpy() != second["y"].to_numpy()).any()


def test_forecasts_are_never_negative() -> None:
    history = _history({"A": np.r_[np.full(50, 10.0), np.zeros(50)]})
    for family in FAMILIES.values():
        assert (fit_predict(history, family, horizon=30, season=7)["forecast"] >= 0).all()


def test_equal_weights_exclude_the_zero_baseline_and_sum_to_one() -> None:
    weights = equal_weights(["TSB", "ADIDA", ZERO_MODEL, "TSB"])
    assert weights == {"ADIDA": 0.5, "TSB": 0.5}


def test_combine_and_score_an_ensemble() -> None:
    history = _history({"A": np.tile([0.0, 2.0], 50), "B": np.tile([1.0, 1.0], 50)})
    backtest = pd.concat([cross_validate(history, f, horizon=6, season=2, n_windows=2) for f in FAMILIES.values()])
    weights = equal_weights(list(backtest["model"].unique()))
    ensemble = combine(backtest, weights, ["unique_id", "ds", "cutoff"])
    assert ensemble["model"].eq(ENSEMBLE_MODEL).all()
    assert len(ensemble) == 2 * 2 * 6
    scored = summarise(score_windows(history, pd.concat([backtest, ensemble]), season=2), ["model"])
    assert set(scored["model"]) >= {ENSEMBLE_MODEL, "SeasonalNaive", ZERO_MODEL}
    assert scored.set_index("model").loc[ENSEMBLE_MODEL, "n_series"] == 2
    # a period-2 pattern: seasonal naive gets every window's total exactly right
    assert scored.set_index("model").loc["SeasonalNaive", "total_demand_error"] == pytest.approx(0.0)
