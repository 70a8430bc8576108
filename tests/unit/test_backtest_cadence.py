"""The backtest kept for several cycles (pipeline.backtest_through, StoredBacktest): which day a cycle
backtests, and that a stored backtest replaces the rolling-origin fits."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from nova_assets.lib.forecasting import pipeline
from nova_assets.lib.forecasting.models import FAMILIES
from nova_assets.lib.forecasting.pipeline import StoredBacktest, backtest_through, run_family
from tests.unit.forecast_data import history, weekly_panel

MONDAY = date(2025, 11, 10)


@pytest.mark.parametrize(
    ("cycle_date", "every_days", "expected"),
    [
        (MONDAY, 7, MONDAY),  # a backtest day
        (MONDAY + timedelta(days=1), 7, MONDAY),  # kept on the next day
        (MONDAY + timedelta(days=6), 7, MONDAY),  # and the whole week
        (MONDAY + timedelta(days=7), 7, MONDAY + timedelta(days=7)),  # a new one a week later
        (MONDAY + timedelta(days=3), 1, MONDAY + timedelta(days=3)),  # every cycle
        (date(2024, 1, 3), 2, date(2024, 1, 3)),
        (date(2024, 1, 4), 2, date(2024, 1, 3)),
    ],
)
def test_the_backtest_day_is_on_a_fixed_calendar(cycle_date: date, every_days: int, expected: date) -> None:
    assert backtest_through(cycle_date, every_days) == expected


def test_the_backtest_ends_on_its_day_and_the_forecast_on_the_last_day() -> None:
    frame = history(weekly_panel(4, 16))
    end = frame["ds"].max()
    through = (end - pd.Timedelta(days=5)).date()
    run = run_family(frame, FAMILIES["intermittent"], horizon=7, season=7, n_windows=2, n_jobs=1, through=through)
    assert run.backtest["ds"].max() == pd.Timestamp(through)
    assert run.backtest["cutoff"].max() == pd.Timestamp(through) - pd.Timedelta(days=7)
    assert run.forecast["ds"].min() == end + pd.Timedelta(days=1)
    assert not run.backtest_reused


def test_a_stored_backtest_is_reused_without_refitting_its_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = history(weekly_panel(4, 16))
    family = FAMILIES["statistical"]
    first = run_family(frame, family, horizon=7, season=7, n_windows=2, n_jobs=1)
    assert first.memo["ets"]

    def no_windows(*args: object, **kwargs: object) -> None:
        raise AssertionError("the stored backtest was refitted")

    monkeypatch.setattr(pipeline, "cross_validate", no_windows)
    later = frame.assign(ds=frame["ds"] + pd.Timedelta(days=1))  # the next cycle: one more day
    again = run_family(later, family, 7, 7, n_jobs=1, stored=StoredBacktest(first.backtest, first.memo))
    assert again.backtest_reused
    pd.testing.assert_frame_equal(again.backtest, first.backtest)
    assert again.memo == first.memo  # the forms of the stored backtest, not a new search
    assert again.forecast["ds"].min() == later["ds"].max() + pd.Timedelta(days=1)


def test_a_stored_backtest_of_other_models_is_made_again() -> None:
    """A release that changed a family's models: the kept backtest would give the ensemble no
    windows of the new ones."""
    frame = history(weekly_panel(4, 16))
    family = FAMILIES["intermittent"]
    first = run_family(frame, family, horizon=7, season=7, n_windows=2, n_jobs=1)
    older = first.backtest[first.backtest["model"] != "TSB"]
    again = run_family(frame, family, 7, 7, n_windows=2, n_jobs=1, stored=StoredBacktest(older, first.memo))
    assert not again.backtest_reused
    pd.testing.assert_frame_equal(again.backtest, first.backtest)
