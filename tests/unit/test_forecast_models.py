"""The model families learn simple patterns, route series by demand class, never see the future in
the backtest, never go negative and repeat themselves with the same seed."""

import numpy as np
import pandas as pd
import pytest
from statsforecast.models import AutoETS

from nova_assets.lib.forecasting.boosting import BOOSTING_MEAN
from nova_assets.lib.forecasting.demand_class import DemandClass, classify, route_classes
from nova_assets.lib.forecasting.installed_base import INSTALLED_BASE_FAMILY
from nova_assets.lib.forecasting.models import FAMILIES, ZERO_MODEL, backtest_cutoffs, cross_validate, fit_predict
from nova_assets.lib.forecasting.panel import Panel, regularise
from nova_assets.lib.forecasting.statistical import STAT_MAX_SEASONS, css_search
from tests.unit.forecast_data import WEEK, history, weekly_panel


def _pattern(forecast: pd.DataFrame, model: str, uid: str) -> np.ndarray:
    rows = forecast[(forecast["model"] == model) & (forecast["unique_id"] == uid)].sort_values("ds")
    return rows["forecast"].to_numpy()


def test_intermittent_methods_learn_the_demand_rate() -> None:
    # one unit of 4 every 4th day: a rate of 1 per day
    frame = history({"A": np.tile([0.0, 0.0, 0.0, 4.0], 60)})
    forecast = fit_predict(frame, FAMILIES["intermittent"], horizon=10, season=7)
    per_model = forecast.groupby("model")["forecast"].mean()
    assert set(per_model.index) == {"CrostonSBA", "TSB", "ADIDA", "IMAPA"}
    assert per_model.between(0.8, 1.25).all(), per_model


def test_seasonal_naive_repeats_the_week_and_zero_is_zero() -> None:
    frame = history({"A": np.tile(WEEK, 10)})
    forecast = fit_predict(frame, FAMILIES["baseline"], horizon=7, season=7)
    np.testing.assert_allclose(_pattern(forecast, "SeasonalNaive", "A"), WEEK)
    assert (forecast.loc[forecast["model"] == ZERO_MODEL, "forecast"] == 0).all()


@pytest.mark.parametrize("weeks", [16, 26], ids=["exact ARIMA search", "CSS ARIMA search (over 150 days)"])
def test_ets_and_arima_learn_a_weekly_pattern(weeks: int) -> None:
    rng = np.random.default_rng(1)
    frame = history({"A": np.tile(WEEK, weeks) + rng.normal(0, 0.3, 7 * weeks)})
    forecast = fit_predict(frame, FAMILIES["statistical"], horizon=14, season=7)
    for model in ("AutoETS", "AutoARIMA"):
        np.testing.assert_allclose(_pattern(forecast, model, "A"), np.tile(WEEK, 2), atol=1.2, err_msg=model)


@pytest.mark.parametrize(
    ("points", "season", "approximate"),
    [(182, 7, True), (150, 7, False), (51, 12, False), (24, 1, False), (104, 52, True)],
    ids=["daily half-year", "150 days", "carparts months", "AUTO months", "two years of weeks"],
)
def test_arima_search_approximates_on_long_or_finely_seasonal_series_only(
    points: int, season: int, approximate: bool
) -> None:
    assert css_search(points, season) is approximate


def test_statistical_searches_model_forms_on_the_first_window_only() -> None:
    rng = np.random.default_rng(6)
    frame = history({"A": np.tile(WEEK, 30) + rng.normal(0, 0.3, 210), "B": rng.poisson(4, 210)})
    memo: dict = {}
    cross_validate(frame, FAMILIES["statistical"], horizon=14, season=7, n_windows=2, memo=memo)
    first_cutoff = backtest_cutoffs(frame, horizon=14, n_windows=2)[0]
    searched: dict = {}  # a fresh search on the first window's training data alone
    fit_predict(frame[frame["ds"] <= first_cutoff], FAMILIES["statistical"], horizon=14, season=7, memo=searched)
    assert memo == searched and set(memo["arima"]) == {"A", "B"}
    # the final fit re-estimates that form on all history instead of searching again
    final = fit_predict(frame, FAMILIES["statistical"], horizon=14, season=7, memo=memo)
    form = memo["ets"]["A"]
    ets = AutoETS(season_length=7, model=form[:3], damped=form[3] == "D")
    fixed = ets.forecast(y=frame["y"][:210].to_numpy()[-STAT_MAX_SEASONS * 7 :], h=14)
    np.testing.assert_allclose(_pattern(final, "AutoETS", "A"), np.clip(fixed["mean"], 0, None))
    np.testing.assert_allclose(_pattern(final, "AutoETS", "A"), np.tile(WEEK, 2), atol=1.2)
    # a recorded form is obeyed, not searched again: simple exponential smoothing forecasts a flat line
    flat = fit_predict(frame, FAMILIES["statistical"], horizon=14, season=7, memo={"ets": {"A": "ANNN"}})
    assert np.ptp(_pattern(flat, "AutoETS", "A")) < 1e-9


def test_expensive_models_fit_only_the_top_series_by_volume() -> None:
    rng = np.random.default_rng(7)
    frame = history({f"S{i}": rng.poisson(3 + 2 * i, 120).astype(float) for i in range(5)})
    backtest = cross_validate(frame, FAMILIES["statistical"], horizon=14, season=7, n_windows=2, max_series=2)
    arima = backtest[backtest["model"] == "AutoARIMA"]
    assert arima.groupby("cutoff")["unique_id"].unique().map(set).tolist() == [{"S3", "S4"}] * 2
    assert set(backtest.loc[backtest["model"] == "AutoETS", "unique_id"]) == {f"S{i}" for i in range(5)}
    prophet = fit_predict(frame, FAMILIES["prophet"], horizon=7, season=7, max_series=1)
    assert set(prophet["unique_id"]) == {"S4"}


@pytest.mark.parametrize(("new_days", "capped"), [(21, "OLD"), (22, "NEW")])
def test_a_final_fit_gives_the_capped_models_only_series_the_last_backtest_window_fitted(
    new_days: int, capped: str
) -> None:
    # The larger item NEW is 21 or 22 days old: the last backtest window, 14 days before the end, had
    # 7 or 8 of them, and a series needs a week and a day (season + 1) to be fitted there.
    rng = np.random.default_rng(8)
    frame = history({"OLD": rng.poisson(3, 120).astype(float), "NEW": rng.poisson(30, new_days).astype(float)})
    for family, model in (("prophet", "Prophet"), ("statistical", "AutoARIMA")):
        final = fit_predict(frame, FAMILIES[family], horizon=14, season=7, max_series=1)
        assert set(final.loc[final["model"] == model, "unique_id"]) == {capped}, family
        window = fit_predict(frame, FAMILIES[family], horizon=14, season=7, max_series=1, final=False)
        assert set(window.loc[window["model"] == model, "unique_id"]) == {"NEW"}, family  # volume alone
    alone = fit_predict(frame[frame["unique_id"] == "NEW"], FAMILIES["prophet"], horizon=14, season=7)
    assert alone.empty == (new_days == 21)  # no series left for Prophet: no rows, no error


def test_prophet_learns_trend_and_week() -> None:
    days = np.arange(140)
    frame = history({"A": 20 + 0.1 * days + np.tile(WEEK, 20)})
    forecast = fit_predict(frame, FAMILIES["prophet"], horizon=14, season=7)
    expected = 20 + 0.1 * np.arange(140, 154) + np.tile(WEEK, 2)
    np.testing.assert_allclose(_pattern(forecast, "Prophet", "A"), expected, atol=1.5)


def test_prophet_uses_regressors_known_over_the_horizon() -> None:
    rng = np.random.default_rng(2)
    promo = (rng.uniform(size=154) < 0.3).astype(float)
    frame = history({"A": 10 + 8 * promo[:140] + rng.normal(0, 0.2, 140)})
    regressors = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=154), "promo": promo})
    forecast = fit_predict(frame, FAMILIES["prophet"], horizon=14, season=7, regressors=regressors)
    np.testing.assert_allclose(_pattern(forecast, "Prophet", "A"), 10 + 8 * promo[140:], atol=1.5)


@pytest.mark.parametrize("family", ["gradient_boosting", "lstm"])
def test_global_models_learn_each_level_and_the_week(family: str) -> None:
    panel = weekly_panel(n_series=8, weeks=20)
    forecast = fit_predict(history(panel), FAMILIES[family], horizon=14, season=7, n_jobs=1)
    for model, rows in forecast.groupby("model"):
        for uid, values in panel.items():
            predicted = _pattern(rows, model, uid)
            level = values[-56:].mean()
            assert predicted.mean() == pytest.approx(level, rel=0.3), (model, uid)
            if family == "gradient_boosting":  # the week profile, read from the calendar and lags
                assert np.corrcoef(predicted, np.tile(WEEK, 2))[0, 1] > 0.8, (model, uid)


def test_routing_by_demand_class() -> None:
    rng = np.random.default_rng(3)
    frame = history(
        {
            "smooth": rng.poisson(6, 120),
            "lumpy": np.where(rng.uniform(size=120) < 0.1, rng.choice([1.0, 30.0], 120), 0),
            "none": np.zeros(120),
            "new": np.array([3.0, 4, 5, 4]),
        }
    )
    classes = route_classes(frame, season=7)
    assert classes.to_dict() == {
        "lumpy": DemandClass.LUMPY,
        "new": DemandClass.SHORT,
        "none": DemandClass.NO_DEMAND,
        "smooth": DemandClass.SMOOTH,
    }
    baseline = fit_predict(frame, FAMILIES["baseline"], horizon=7, season=7)
    assert set(baseline["unique_id"]) == {"smooth", "lumpy", "none", "new"}
    assert _pattern(baseline, "SeasonalNaive", "new") == pytest.approx(np.full(7, 4.0))  # shorter than a season
    statistical = fit_predict(frame, FAMILIES["statistical"], horizon=7, season=7)
    assert set(statistical.loc[statistical["model"] == "AutoETS", "unique_id"]) == {"smooth", "lumpy"}
    assert set(statistical.loc[statistical["model"] == "AutoARIMA", "unique_id"]) == {"smooth"}
    prophet = fit_predict(frame, FAMILIES["prophet"], horizon=7, season=7)
    assert set(prophet["unique_id"]) == {"smooth"}
    assert (prophet["demand_class"] == "smooth").all()


# installed_base forecasts from the maintenance tables, not the history (test_forecasting_installed_base)
HISTORY_FAMILIES = sorted(set(FAMILIES) - {INSTALLED_BASE_FAMILY})


@pytest.mark.parametrize("family", HISTORY_FAMILIES)
def test_backtest_never_sees_the_window_it_is_scored_on(family: str) -> None:
    rng = np.random.default_rng(0)
    base = rng.poisson(5, 120).astype(float)  # smooth, so every family forecasts it
    changed = base.copy()
    changed[-14:] += 50  # only the last window's actuals change
    first = cross_validate(history({"A": base}), FAMILIES[family], horizon=14, season=7, n_windows=1)
    second = cross_validate(history({"A": changed}), FAMILIES[family], horizon=14, season=7, n_windows=1)
    assert len(first) > 0
    np.testing.assert_allclose(first["forecast"].to_numpy(), second["forecast"].to_numpy())
    assert (first["y"].to_numpy() != second["y"].to_numpy()).all()
    assert (first["ds"] > first["cutoff"]).all()


def test_cutoffs_roll_back_one_horizon_each() -> None:
    frame = history({"A": np.ones(50)})
    cutoffs = backtest_cutoffs(frame, horizon=7, n_windows=3)
    assert list(np.diff(cutoffs)) == [pd.Timedelta(days=7)] * 2
    assert cutoffs[-1] == frame["ds"].max() - pd.Timedelta(days=7)
    with pytest.raises(ValueError, match="cannot hold"):
        backtest_cutoffs(frame, horizon=20, n_windows=3)


def test_forecasts_are_never_negative() -> None:
    rng = np.random.default_rng(4)
    falling = np.r_[np.full(60, 10.0), np.zeros(40)] + rng.poisson(0.2, 100)
    frame = history({"A": falling, "B": rng.poisson(3, 100)})
    for family in map(FAMILIES.get, HISTORY_FAMILIES):
        forecast = fit_predict(frame, family, horizon=30, season=7)
        assert len(forecast) > 0 and (forecast["forecast"] >= 0).all(), family.name


@pytest.mark.parametrize("family", ["gradient_boosting", "lstm"])
def test_seeded_models_are_reproducible(family: str) -> None:
    frame = history(weekly_panel(n_series=4, weeks=12))
    first = fit_predict(frame, FAMILIES[family], horizon=7, season=7, seed=7)
    again = fit_predict(frame, FAMILIES[family], horizon=7, season=7, seed=7)
    other = fit_predict(frame, FAMILIES[family], horizon=7, season=7, seed=8)
    np.testing.assert_array_equal(first["forecast"].to_numpy(), again["forecast"].to_numpy())
    assert not np.array_equal(first["forecast"].to_numpy(), other["forecast"].to_numpy())


def test_the_boosting_family_adds_the_mean_of_its_two_boosters_as_a_member() -> None:
    frame = history(weekly_panel(n_series=4, weeks=12))
    forecast = fit_predict(frame, FAMILIES["gradient_boosting"], horizon=7, season=7, n_jobs=1)
    wide = forecast.pivot_table(index=["unique_id", "ds"], columns="model", values="forecast")
    assert set(wide.columns) == {"LightGBM", "XGBoost", BOOSTING_MEAN} and len(wide) == 4 * 7
    assert not np.allclose(wide["LightGBM"], wide["XGBoost"])
    np.testing.assert_allclose(wide[BOOSTING_MEAN], (wide["LightGBM"] + wide["XGBoost"]) / 2)


def test_routing_counts_all_series_at_once_as_classify_does_one_by_one() -> None:
    rng = np.random.default_rng(11)
    series = {
        f"S{i}": np.where(rng.uniform(size=n) < p, rng.choice([1.0, 2, 5, 40], n), 0)
        for i, (n, p) in enumerate(zip(rng.integers(5, 90, 300), rng.uniform(0.05, 1, 300), strict=True))
    }
    # CV² = 0.49 in exact arithmetic: numpy's std/mean gives 0.48999999999999994 (SMOOTH), a plain sum
    # of squares 0.49 exactly (ERRATIC); the series is classified one by one, as classify does
    series["edge"] = np.array([3.0, 17.0] * 8)
    frame = history(series).sample(frac=1, random_state=0)  # rows in any order
    classes = route_classes(frame, season=7)
    expected = {
        uid: str(DemandClass.SHORT if len(v) < 8 else classify(frame.loc[frame["unique_id"] == uid, "y"].to_numpy())[0])
        for uid, v in series.items()
    }
    assert classes.to_dict() == expected
    assert classes["edge"] == DemandClass.SMOOTH
    assert list(classes.index) == sorted(series)


def test_a_panel_is_the_pivot_of_the_history() -> None:
    frame = history({"B": np.array([1.0, 0, 2]), "A": np.array([4.0, 5])}).sample(frac=1, random_state=1)
    panel = Panel.from_history(frame)
    wide = frame.pivot(index="unique_id", columns="ds", values="y").sort_index(axis=1)
    assert panel.ids.tolist() == ["A", "B"]
    pd.testing.assert_index_equal(panel.dates, pd.DatetimeIndex(wide.columns))
    np.testing.assert_array_equal(panel.values, wide.to_numpy(float))
    with pytest.raises(ValueError, match="duplicate entries"):
        Panel.from_history(pd.concat([frame, frame.iloc[:1]]))


def test_origin_scales_only_use_the_past() -> None:
    panel = Panel.from_history(history({"A": np.array([0.0, 2, 0, 4, 0]), "B": np.array([1.0, 1])}))
    np.testing.assert_allclose(panel.origin_scales()[0], [np.nan, 2, 2, 3, 3])
    np.testing.assert_allclose(panel.origin_scales()[1], [np.nan, np.nan, np.nan, 1, 1])


def test_regularise_fills_each_series_from_its_first_period_and_sums_repeats() -> None:
    rows = pd.DataFrame(
        {
            "unique_id": ["b", "a", "a", "b", "a", "c"],
            "ds": pd.to_datetime(["2024-03-06", "2024-01-03", "2024-01-17", "2024-03-06", "2024-01-18", "2024-01-24"]),
            "y": [1.0, 2.0, 3.0, 4.0, 9.0, 5.0],
        }
    )  # weekly on Wednesdays; 2024-01-18 is a Thursday, off the calendar
    table = regularise(rows, "W")
    assert list(table["unique_id"]) == ["a"] * 10 + ["b"] + ["c"] * 7
    assert (table["ds"].dt.dayofweek == 2).all() and table["ds"].max() == pd.Timestamp("2024-03-06")
    by_series = table.groupby("unique_id")["y"].apply(list)
    assert by_series["a"] == [2.0, 0.0, 3.0] + [0.0] * 7  # the gap is no demand, the Thursday is dropped
    assert by_series["b"] == [5.0]  # its two rows of the same week, summed
    assert by_series["c"] == [5.0] + [0.0] * 6
