"""Learned ensemble weights: on the simplex, per demand class, never worse than the best member."""

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.forecasting import ensemble
from nova_assets.lib.forecasting.ensemble import (
    CAPPED_SUFFIX,
    ENSEMBLE_MODEL,
    combine,
    hindsight_weights,
    learn_weights,
)
from nova_assets.lib.forecasting.metrics import score_windows, summarise
from nova_assets.lib.forecasting.models import FAMILIES, NAIVE_MODEL, ZERO_MODEL, cross_validate
from tests.unit.forecast_data import history

Member = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _backtest(members: dict[str, Member], n_series: int = 40, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A smooth panel (60 days of history, then two 10-day windows) and member forecasts of its windows."""
    rng = np.random.default_rng(seed)
    levels = rng.uniform(2, 10, n_series)
    values = {f"S{i}": rng.poisson(level, 80).astype(float) for i, level in enumerate(levels)}
    frame = history(values)
    dates = np.sort(frame["ds"].unique())
    rows = []
    for cutoff in (dates[59], dates[69]):
        window = frame[(frame["ds"] > cutoff) & (frame["ds"] <= cutoff + pd.Timedelta(days=10))]
        for model, make in members.items():
            level = window["unique_id"].map(dict(zip(values, levels, strict=True))).to_numpy()
            rows.append(window.assign(cutoff=cutoff, model=model, forecast=make(level, rng), demand_class="smooth"))
    return frame, pd.concat(rows, ignore_index=True)


def _objective_report(frame: pd.DataFrame, backtest: pd.DataFrame) -> tuple[dict, pd.Series]:
    weights = learn_weights(backtest, frame, season=7)
    return weights.by_class, weights.report.set_index("demand_class").loc["smooth"]


def test_weights_are_on_the_simplex_and_mix_complementary_models() -> None:
    frame, backtest = _backtest(
        {
            "High": lambda level, rng: level * 1.3,  # biased up
            "Low": lambda level, rng: level * 0.7,  # biased down: the mix cancels both biases
            "Noise": lambda level, rng: level * rng.uniform(0.2, 1.8, len(level)),
        }
    )
    by_class, report = _objective_report(frame, backtest)
    weights = by_class["smooth"]
    assert all(w >= 0 for w in weights.values())
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights.get("High", 0) == pytest.approx(weights.get("Low", 0), abs=0.1)
    assert weights.get("High", 0) > 0.35
    assert report["choice"] == "combination"
    assert report["objective_ensemble"] < report["objective_best_model"]
    assert report["mase_ensemble"] < report["mase_best_model"]
    assert abs(report["bias_ensemble"]) < 0.05


def test_a_dominant_model_keeps_weight_one() -> None:
    frame, backtest = _backtest(
        {
            "Right": lambda level, rng: level,
            "Worse": lambda level, rng: level * 1.6,
            "Noise": lambda level, rng: level * rng.uniform(0.0, 2.0, len(level)),
        }
    )
    by_class, report = _objective_report(frame, backtest)
    assert by_class["smooth"] == {"Right": pytest.approx(1.0)}
    assert report["choice"] == "single"
    assert report["objective_ensemble"] <= report["objective_best_model"] + 1e-12


def test_ensemble_is_never_worse_than_its_best_member_on_the_backtest() -> None:
    for seed in range(3):
        frame, backtest = _backtest(
            {
                "A": lambda level, rng: level * rng.uniform(0.5, 1.5, len(level)),
                "B": lambda level, rng: level * rng.uniform(0.6, 1.6, len(level)),
                "C": lambda level, rng: np.full(len(level), level.mean()),
            },
            seed=seed,
        )
        _, report = _objective_report(frame, backtest)
        assert report["objective_ensemble"] <= report["objective_best_model"] + 1e-12


def test_zero_is_never_a_member_and_short_series_take_the_naive_forecast() -> None:
    frame, backtest = _backtest(
        {
            "A": lambda level, rng: level,
            ZERO_MODEL: lambda level, rng: np.zeros(len(level)),
        }
    )
    weights = learn_weights(backtest, frame, season=7)
    assert ZERO_MODEL not in weights.by_class["smooth"]
    assert weights.by_class["short"] == {NAIVE_MODEL: 1.0}
    forecasts = pd.DataFrame(
        {
            "unique_id": ["new", "new", "old", "old", "old"],
            "ds": pd.Timestamp("2024-03-01"),
            "model": [NAIVE_MODEL, "A", NAIVE_MODEL, "A", "Missing"],
            "forecast": [2.0, 9.0, 3.0, 5.0, 1.0],
            "demand_class": ["short", "short", "smooth", "smooth", "smooth"],
        }
    )
    combined = combine(forecasts, weights, ["unique_id", "ds"]).set_index("unique_id")["forecast"]
    assert combined.to_dict() == {"new": 2.0, "old": 5.0}


def test_a_missing_member_has_its_weight_spread_over_the_others() -> None:
    frame, backtest = _backtest(
        {
            "High": lambda level, rng: level * 1.3,
            "Low": lambda level, rng: level * 0.7,
        }
    )
    weights = learn_weights(backtest, frame, season=7)
    forecasts = pd.DataFrame(
        {
            "unique_id": "X",
            "ds": pd.Timestamp("2024-03-01"),
            "model": ["Low"],
            "forecast": [4.0],
            "demand_class": "smooth",
        }
    )
    assert combine(forecasts, weights, ["unique_id", "ds"])["forecast"].tolist() == [4.0]


def test_learned_ensemble_on_real_backtests_scores_as_well_as_its_best_member() -> None:
    rng = np.random.default_rng(5)
    values = {f"S{i}": rng.poisson(rng.uniform(0.3, 4), 100).astype(float) for i in range(12)}
    frame = history(values)
    backtest = pd.concat(
        [cross_validate(frame, FAMILIES[f], horizon=7, season=7, n_windows=2) for f in ("baseline", "intermittent")],
        ignore_index=True,
    )
    weights = learn_weights(backtest, frame, season=7)
    ensemble = combine(backtest, weights, ["unique_id", "ds", "cutoff"])
    assert ensemble["model"].eq(ENSEMBLE_MODEL).all()
    assert len(ensemble) == 12 * 2 * 7
    scored = summarise(score_windows(frame, pd.concat([backtest, ensemble]), season=7), ["model"])
    scored = scored.set_index("model")
    report = weights.report.set_index("demand_class")
    for cls, row in report.iterrows():
        assert row["objective_ensemble"] <= row["objective_best_model"] + 1e-12, cls
    assert scored.loc[ENSEMBLE_MODEL, "n_series"] == 12
    assert scored.loc[ENSEMBLE_MODEL, "rmsse"] <= scored.drop(index=[ENSEMBLE_MODEL, ZERO_MODEL])["rmsse"].max()


def test_a_capped_model_gets_its_own_weight_set_and_the_rest_keep_theirs() -> None:
    frame, backtest = _backtest(
        {
            "Base": lambda level, rng: level * 1.4,  # biased: every series has it
            "Capped": lambda level, rng: level,  # right, but run on the top half of the series only
        }
    )
    top = {f"S{i}" for i in range(20)}
    backtest = backtest[(backtest["model"] != "Capped") | backtest["unique_id"].isin(top)]
    weights = learn_weights(backtest, frame, season=7)
    assert weights.by_class["smooth"] == {"Base": pytest.approx(1.0)}
    assert weights.by_class["smooth" + CAPPED_SUFFIX] == {"Capped": pytest.approx(1.0)}
    combined = combine(backtest, weights, ["unique_id", "ds", "cutoff"]).merge(
        backtest[backtest["model"] == "Base"], on=["unique_id", "ds", "cutoff"], suffixes=("", "_base")
    )
    inside = combined["unique_id"].isin(top)
    # inside the cap the right model, outside the base model's own weights (not a renormalised capped set)
    np.testing.assert_allclose(combined.loc[inside, "forecast"], combined.loc[inside, "forecast_base"] / 1.4)
    np.testing.assert_allclose(combined.loc[~inside, "forecast"], combined.loc[~inside, "forecast_base"])


def test_a_capped_set_that_weights_no_capped_model_is_dropped() -> None:
    frame, backtest = _backtest(
        {
            "Base": lambda level, rng: level,
            "Capped": lambda level, rng: level * 3.0,  # useless: the covered rows are the class's rows
        }
    )
    backtest = backtest[(backtest["model"] != "Capped") | backtest["unique_id"].isin({f"S{i}" for i in range(20)})]
    weights = learn_weights(backtest, frame, season=7)
    assert weights.by_class["smooth"] == {"Base": pytest.approx(1.0)}
    assert "smooth" + CAPPED_SUFFIX not in weights.by_class


def test_an_exact_member_gets_all_the_weight() -> None:
    """A member that forecasts every window exactly must be the ensemble, whatever the others do."""
    rng = np.random.default_rng(11)
    levels = rng.uniform(2, 10, 30)
    values = {f"S{i}": rng.poisson(level, 80).astype(float) for i, level in enumerate(levels)}
    frame = history(values)
    dates = np.sort(frame["ds"].unique())
    rows = []
    for cutoff in dates[[49, 59, 69]]:
        window = frame[(frame["ds"] > cutoff) & (frame["ds"] <= cutoff + pd.Timedelta(days=10))]
        level = window["unique_id"].map(dict(zip(values, levels, strict=True))).to_numpy()
        for model, forecast in (
            ("Exact", window["y"].to_numpy()),
            ("Level", level),
            ("High", level * 1.5),
            ("Noisy", window["y"].to_numpy() + rng.normal(0, 1, len(window))),
        ):
            rows.append(window.assign(cutoff=cutoff, model=model, forecast=forecast, demand_class="smooth"))
    weights = learn_weights(pd.concat(rows, ignore_index=True), frame, season=7)
    assert weights.by_class["smooth"] == {"Exact": pytest.approx(1.0)}
    report = weights.report.set_index("demand_class").loc["smooth"]
    assert report["best_model"] == "Exact" and report["rmsse_ensemble"] == pytest.approx(0.0, abs=1e-12)


def test_learned_weights_within_noise_fall_back_to_the_best_member() -> None:
    """Two members that differ by a hair: mixing them cannot be told apart from noise out of sample."""
    frame, backtest = _backtest(
        {
            "A": lambda level, rng: level,
            "B": lambda level, rng: level * 1.02,
        }
    )
    weights = learn_weights(backtest, frame, season=7)
    report = weights.report.set_index("demand_class").loc["smooth"]
    assert bool(report["fallback"]) and report["choice"] == "single"
    assert len(weights.by_class["smooth"]) == 1
    assert abs(report["cv_advantage_z"]) < 2.0


def test_learned_weights_are_shrunk_toward_the_best_member(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrinkage moves the learned weights toward the best member, so a member they leave out stays out."""
    frame, backtest = _backtest(
        {
            "High": lambda level, rng: level * 1.3,
            "Low": lambda level, rng: level * 0.7,
            "Far": lambda level, rng: level * rng.uniform(0.2, 3.0, len(level)),  # noisy: left out
        }
    )
    monkeypatch.setattr(ensemble, "SHRINKAGE_GRID", (1.0,))
    learned = learn_weights(backtest, frame, season=7).by_class["smooth"]
    monkeypatch.setattr(ensemble, "SHRINKAGE_GRID", (0.5,))
    weights = learn_weights(backtest, frame, season=7)
    report = weights.report.set_index("demand_class").loc["smooth"]
    assert report["choice"] == "combination" and report["shrinkage"] == 0.5
    assert "Far" not in learned and "Far" not in weights.by_class["smooth"]
    expected = {m: 0.5 * learned.get(m, 0.0) + 0.5 * (m == report["best_model"]) for m in ("High", "Low")}
    assert weights.by_class["smooth"] == pytest.approx(expected)


def test_hindsight_weights_are_the_optimum_of_their_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """What nova evaluate's hindsight:Weights row is made of: on windows where the mean of two members is
    exact, the weights are half and half, even where the selection rule keeps a single member."""
    frame, backtest = _backtest({"Over": lambda level, rng: level, "Under": lambda level, rng: level})
    over = backtest["model"] == "Over"
    backtest["forecast"] = np.where(over, backtest["y"] * 1.5, backtest["y"] * 0.5)
    monkeypatch.setattr(ensemble, "NOISE_Z", 1e9)  # the selection rule never trusts a combination
    assert len(learn_weights(backtest, frame, season=7).by_class["smooth"]) == 1
    weights = hindsight_weights(backtest, frame, season=7)
    assert weights.by_class["smooth"] == pytest.approx({"Over": 0.5, "Under": 0.5}, abs=1e-4)
    combined = combine(backtest, weights, ["unique_id", "ds", "cutoff"])
    assert np.abs(combined["forecast"] - combined["y"]).max() < 1e-3


def test_hindsight_weights_learn_every_class_on_its_own_windows_however_few() -> None:
    """A held-out period has one window per series: a class of a few series keeps its own optimum
    instead of the pooled weights the ensemble's backtest falls back to for small classes."""
    frame, backtest = _backtest({"X": lambda level, rng: level, "Y": lambda level, rng: level}, n_series=10)
    erratic = backtest["unique_id"].isin([f"S{i}" for i in range(5)])
    backtest["demand_class"] = np.where(erratic, "erratic", "smooth")
    exact = np.where(erratic, "Y", "X")  # X is exact on the smooth series, Y on the erratic ones
    backtest["forecast"] = np.where(backtest["model"] == exact, backtest["y"], backtest["y"] * 1.5 + 1)
    assert backtest.groupby("demand_class")["unique_id"].nunique().max() * 2 < ensemble.MIN_CLASS_WINDOWS
    weights = hindsight_weights(backtest, frame, season=7).by_class
    assert weights["smooth"] == pytest.approx({"X": 1.0}) and weights["erratic"] == pytest.approx({"Y": 1.0})
