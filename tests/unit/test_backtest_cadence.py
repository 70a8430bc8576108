"""The backtest kept for several cycles (demand_history.backtest_through, StoredBacktest): which day a cycle
backtests, that a stored backtest replaces the rolling-origin fits, and that a new backtest keeps the
model forms of the last one but a rotating share (pipeline.carry_forms)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from nova_assets.lib.demand_history import backtest_through
from nova_assets.lib.forecasting import pipeline, statistical
from nova_assets.lib.forecasting.material_groups import material_group
from nova_assets.lib.forecasting.models import FAMILIES
from nova_assets.lib.forecasting.pipeline import (
    FORM_REFRESH_BACKTESTS,
    StoredBacktest,
    backtest_key,
    carry_forms,
    continues,
    run_family,
    window_step,
)
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


def _key(through: date, season: int = 7) -> dict:
    return backtest_key(through, 30, season, "D", 600, step=14)


def test_a_new_backtest_keeps_the_forms_but_a_rotating_share() -> None:
    forms = {"ets": {f"M{i:03d}": "ANN" for i in range(400)}, "arima": {"M001": [1, 0, 0, 0, 0, 0, True, False]}}
    searched_again: list[set[str]] = []
    for week in range(1, FORM_REFRESH_BACKTESTS + 1):
        kept = carry_forms(forms, MONDAY + timedelta(days=7 * week), every_days=7)
        assert all(kept["ets"][uid] == forms["ets"][uid] for uid in kept["ets"])
        searched_again.append(set(forms["ets"]) - set(kept["ets"]))
    # every series is searched again exactly once in FORM_REFRESH_BACKTESTS backtests, about a quarter each time
    assert set().union(*searched_again) == set(forms["ets"])
    assert sum(len(share) for share in searched_again) == len(forms["ets"])
    assert all(60 < len(share) < 140 for share in searched_again)


def test_the_share_searched_again_is_spread_over_the_material_groups() -> None:
    """Each group step searches about a quarter: a share that were one group would put a whole cold
    search on one step of the backtest day (the groups' hash picked it once)."""
    uids = [f"MAT-{i:05d}" for i in range(2000)]
    kept = carry_forms({"ets": dict.fromkeys(uids, "ANN")}, MONDAY, every_days=14)["ets"]
    for group in range(4):
        members = [uid for uid in uids if material_group(uid, 4) == group]
        searched = sum(uid not in kept for uid in members) / len(members)
        assert 0.15 < searched < 0.35, (group, searched)


@pytest.mark.parametrize(
    ("made_with", "key", "expected"),
    [
        (_key(MONDAY), _key(MONDAY), True),  # the same backtest: kept whole
        (_key(MONDAY), _key(MONDAY + timedelta(days=14)), True),  # a later one: kept in part
        (_key(MONDAY + timedelta(days=14)), _key(MONDAY), False),  # a later backtest's windows saw later data
        (_key(MONDAY, season=7), _key(MONDAY + timedelta(days=14), season=14), False),  # other settings
        ({**_key(MONDAY), "step": 15}, _key(MONDAY + timedelta(days=14)), False),  # other windows
        ({}, _key(MONDAY), False),  # a state of an older release without a key
    ],
)
def test_a_stored_backtest_continues_only_forward_with_the_same_settings(
    made_with: dict, key: dict, expected: bool
) -> None:
    assert continues(made_with, key) is expected


def test_a_backtest_searches_only_the_series_without_a_kept_form(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = history(weekly_panel(4, 16))
    family = FAMILIES["statistical"]
    first = run_family(frame, family, horizon=7, season=7, n_windows=2, n_jobs=1)
    kept = {"ets": {uid: form for uid, form in first.forms["ets"].items() if uid != "S00"}}
    searched: list[object] = []
    ets = statistical._ets

    def recording(y, spec, form, search):
        result = ets(y, spec, form, search)
        if form is None:
            searched.append(result[1])
        return result

    monkeypatch.setattr(statistical, "_ets", recording)
    long_ago = date(2020, 1, 1)  # a stored backtest without windows of this one, whose forms saw nothing after
    stored = StoredBacktest(first.backtest.iloc[0:0], {}, kept, forms_through=long_ago, through=long_ago)
    again = run_family(frame, family, horizon=7, season=7, n_windows=2, n_jobs=1, stored=stored)
    assert len(searched) == 1  # S00 on the first window; the later fits reuse its new form
    assert again.windows_fitted == 2 and not again.backtest_reused
    searched.clear()
    run_family(frame, family, horizon=7, season=7, n_windows=2, n_jobs=1)
    assert len(searched) == 4  # without kept forms, every series
    # forms that saw data after the first window to fit (a stored backtest of later windows) are not kept
    searched.clear()
    late = StoredBacktest(first.backtest.iloc[0:0], {}, kept, forms_through=date(2030, 1, 1), through=long_ago)
    run_family(frame, family, horizon=7, season=7, n_windows=2, n_jobs=1, stored=late)
    assert len(searched) == 4


def test_a_new_backtest_fits_only_the_windows_the_stored_one_does_not_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """The windows slide by one (the cadence is the window step): one window fitted, the other kept."""
    frame = history(weekly_panel(4, 16))
    family = FAMILIES["statistical"]
    end = frame["ds"].max()
    step = 4  # half the horizon, rounded up (models.plan_windows)
    before = (end - pd.Timedelta(days=step)).date()
    first = run_family(frame, family, horizon=7, season=7, n_windows=2, n_jobs=1, through=before)
    fitted_at: list[list[pd.Timestamp]] = []
    windows = pipeline.cross_validate

    def recording(*args: object, **kwargs: object) -> pd.DataFrame:
        fitted_at.append(list(kwargs["cutoffs"]))
        return windows(*args, **kwargs)

    monkeypatch.setattr(pipeline, "cross_validate", recording)
    stored = StoredBacktest(first.backtest, first.memo, first.forms, first.forms_through, before)
    again = run_family(frame, family, 7, 7, n_windows=2, n_jobs=1, through=end.date(), stored=stored)
    assert fitted_at == [[end - pd.Timedelta(days=7)]]  # only the new last window
    assert again.windows_fitted == 1 and not again.backtest_reused
    shared = end - pd.Timedelta(days=7 + step)
    assert sorted(again.backtest["cutoff"].unique()) == [shared, end - pd.Timedelta(days=7)]
    columns = ["unique_id", "ds", "model", "forecast", "y"]
    pd.testing.assert_frame_equal(
        again.backtest.loc[again.backtest["cutoff"] == shared, columns].reset_index(drop=True),
        first.backtest.loc[first.backtest["cutoff"] == shared, columns].reset_index(drop=True),
    )
    # and the same windows as a backtest made from scratch, up to the kept window's forms
    fresh = run_family(frame, family, 7, 7, n_windows=2, n_jobs=1, through=end.date())
    assert set(map(tuple, fresh.backtest[["unique_id", "ds", "cutoff", "model"]].to_numpy())) == set(
        map(tuple, again.backtest[["unique_id", "ds", "cutoff", "model"]].to_numpy())
    )


def test_kept_windows_take_the_actuals_as_the_history_has_them_now() -> None:
    frame = history(weekly_panel(4, 16))
    family = FAMILIES["intermittent"]
    end = frame["ds"].max()
    before = (end - pd.Timedelta(days=4)).date()
    first = run_family(frame, family, horizon=7, season=7, n_windows=2, n_jobs=1, through=before)
    restated = frame.assign(y=frame["y"] + 1.0)  # the ERP restated the history since
    stored = StoredBacktest(first.backtest, first.memo, first.forms, first.forms_through, before)
    again = run_family(restated, family, 7, 7, n_windows=2, n_jobs=1, through=end.date(), stored=stored)
    scored = again.backtest.merge(restated, on=["unique_id", "ds"], suffixes=("", "_now"))
    assert (scored["y"] == scored["y_now"]).all()


def test_the_forms_to_keep_are_those_of_the_first_window() -> None:
    """A series that starts after the first window's cutoff gets its form from data a later backtest
    scores: it is in the memo but not in the forms a later backtest may keep."""
    values = weekly_panel(4, 16)
    values["NEW"] = values.pop("S03")[-10:]  # starts after the first cutoff
    run = run_family(history(values), FAMILIES["statistical"], horizon=7, season=7, n_windows=2, n_jobs=1)
    assert "NEW" in run.memo["ets"]
    assert "NEW" not in run.forms["ets"]
    assert set(run.forms["ets"]) == {"S00", "S01", "S02"}


@pytest.mark.parametrize(
    ("horizon", "every_days", "step"),
    [(30, 14, 14), (28, 14, 14), (28, 7, 14), (30, 7, 14), (30, 1, 15), (7, 30, 30), (90, 14, 42)],
)
def test_the_cycle_windows_are_half_a_horizon_apart_in_whole_backtest_periods(
    horizon: int, every_days: int, step: int
) -> None:
    assert window_step(horizon, every_days) == step
