"""The family assets keep a backtest for NOVA_BACKTEST_EVERY_DAYS days: the next day's cycle refits on
all history only, every family and the ensemble on the same windows, until the next backtest day, whose
backtest keeps the model forms of the last one but a rotating share (pipeline.carry_forms)."""

from __future__ import annotations

import copy
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from nova_assets.defs.forecast.ensemble import forecast_ensemble
from nova_assets.defs.forecast.families import material_groups
from nova_assets.lib.demand_history import backtest_through
from nova_assets.lib.forecasting import pipeline
from nova_assets.lib.forecasting.models import FAMILIES
from nova_assets.lib.lake_tables import (
    DAILY_DEMAND,
    ENSEMBLE_BACKTEST,
    ENSEMBLE_FORECAST,
    family_backtest,
    family_forecast,
    family_group_tables,
)
from nova_assets.resources import CycleConfig
from tests.integration.test_maintenance_assets import MaintenanceLake, build_lake, family_asset
from tests.unit import maintenance_data

MEASURED = ["baseline", "intermittent"]  # a global family and a fanned-out one
END = pd.Timestamp(maintenance_data.END)  # a Monday: a backtest day of the 7-day cadence


def _cycle(business: MaintenanceLake, every_days: int, horizon: int = 28) -> dict[str, dict]:
    """The measured families and the ensemble as one cycle; each family's materialization metadata."""
    cycle = CycleConfig(horizon_days=horizon, backtest_every_days=every_days)
    resources = business.resources | {"cycle": cycle}
    assets = [family_asset(name) for name in MEASURED]
    result = dg.materialize(assets, resources=resources, selection=[k for a in assets for k in a.keys])
    assert result.success
    empty_forecast = business.lake.read(family_forecast("baseline")).iloc[0:0]
    empty_backtest = business.lake.read(family_backtest("baseline")).iloc[0:0]
    for name in set(FAMILIES) - set(MEASURED):  # the other members forecast nothing here
        business.lake.write(family_forecast(name), empty_forecast)
        business.lake.write(family_backtest(name), empty_backtest)
    assert dg.materialize([forecast_ensemble], resources=resources).success
    metadata = {}
    for event in result.get_asset_materialization_events():
        key = event.asset_key.path[-1].removeprefix("forecast_")
        metadata[key] = event.materialization.metadata
    return metadata


def _next_day(business: MaintenanceLake) -> pd.Timestamp:
    """One more day of demand (the last day's again): what the next cycle reads."""
    demand = business.lake.read(DAILY_DEMAND)
    last = demand["date"].max()
    business.lake.write(
        DAILY_DEMAND, pd.concat([demand, demand[demand["date"] == last].assign(date=last + pd.Timedelta(days=1))])
    )
    return last + pd.Timedelta(days=1)


def backtests_end(business: MaintenanceLake) -> set[pd.Timestamp]:
    """The last day of the measured families' and the ensemble's backtest windows."""
    tables = [family_backtest(name) for name in MEASURED] + [ENSEMBLE_BACKTEST]
    return {business.lake.read(table)["ds"].max() for table in tables}


@pytest.fixture
def business(tmp_path: Path) -> MaintenanceLake:
    return build_lake(tmp_path, maintenance_data.sample(6, 7))


def test_the_next_cycle_reuses_the_backtest_and_forecasts_from_its_own_day(
    business: MaintenanceLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _cycle(business, every_days=7)
    assert not any(m["backtest_reused"].value for m in first.values())
    assert backtests_end(business) == {END}
    backtests = {name: business.lake.read(family_backtest(name)) for name in MEASURED}
    written = {name: business.lake.path(family_backtest(name)).stat().st_mtime_ns for name in MEASURED}

    day = _next_day(business)
    real_windows = pipeline.cross_validate
    monkeypatch.setattr(pipeline, "cross_validate", lambda *a, **k: pytest.fail("a kept backtest was refitted"))
    second = _cycle(business, every_days=7)
    assert all(second[name]["backtest_reused"].value for name in MEASURED)
    for name in MEASURED:
        pd.testing.assert_frame_equal(business.lake.read(family_backtest(name)), backtests[name])
        assert business.lake.path(family_backtest(name)).stat().st_mtime_ns == written[name]  # not rewritten
        assert business.lake.read(family_forecast(name))["ds"].min() == day + pd.Timedelta(days=1)
    assert business.lake.read(ENSEMBLE_FORECAST)["ds"].min() == day + pd.Timedelta(days=1)
    assert backtests_end(business) == {END}

    # a backtest made every cycle (or with another horizon) is made again, by every family, on the new day
    monkeypatch.setattr(pipeline, "cross_validate", real_windows)
    third = _cycle(business, every_days=1)
    assert not any(m["backtest_reused"].value for m in third.values())
    assert backtests_end(business) == {day}
    fourth = _cycle(business, every_days=7, horizon=21)
    assert not any(m["backtest_reused"].value for m in fourth.values())


def test_the_next_backtest_day_keeps_the_model_forms_of_the_last_backtest(
    business: MaintenanceLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    starting_forms: list[dict] = []
    windows = pipeline.cross_validate

    def recording(*args: object, **kwargs: object) -> pd.DataFrame:
        starting_forms.append(copy.deepcopy(kwargs["memo"]))
        return windows(*args, **kwargs)

    monkeypatch.setattr(pipeline, "cross_validate", recording)
    resources = business.resources | {"cycle": CycleConfig(backtest_every_days=7)}
    statistical = family_asset("statistical")

    def group_forms() -> dict[str, str]:
        forms: dict[str, str] = {}
        for group in range(material_groups()):
            forms.update(business.lake.read_json(family_group_tables("statistical", group)[2])["forms"]["ets"])
        return forms

    assert dg.materialize([statistical], resources=resources).success
    assert not any(memo.get("ets") for memo in starting_forms)  # nothing to keep: every form searched
    last = group_forms()
    assert last

    for _ in range(7):
        _next_day(business)
    starting_forms.clear()
    assert dg.materialize([statistical], resources=resources).success
    kept = {uid: form for memo in starting_forms for uid, form in memo.get("ets", {}).items()}
    assert kept.items() <= last.items()  # the last backtest's forms, unchanged
    assert len(last) / 2 < len(kept) < len(last)  # all but the share searched afresh


def test_the_next_backtest_fits_one_window_and_keeps_the_others(
    business: MaintenanceLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the default cadence and horizon (14 and 30 days), the windows slide by one."""
    first = _cycle(business, every_days=14, horizon=30)
    assert all(m["backtest_windows_fitted"].value == 3 for m in first.values())
    before = {name: business.lake.read(family_backtest(name)) for name in MEASURED}
    for _ in range(14):
        day = _next_day(business)
    second = _cycle(business, every_days=14, horizon=30)
    assert all(m["backtest_windows_fitted"].value == 1 for m in second.values())
    assert not any(m["backtest_reused"].value for m in second.values())
    assert backtests_end(business) == {pd.Timestamp(backtest_through(day.date(), 14))}
    for name in MEASURED:
        after = business.lake.read(family_backtest(name))
        assert after["cutoff"].nunique() == 3
        shared = sorted(set(before[name]["cutoff"]) & set(after["cutoff"]))
        assert len(shared) == 2  # kept as they were
        columns = ["unique_id", "ds", "cutoff", "model", "forecast"]
        old = before[name][before[name]["cutoff"].isin(shared)][columns].sort_values(columns[:4], ignore_index=True)
        new = after[after["cutoff"].isin(shared)][columns].sort_values(columns[:4], ignore_index=True)
        pd.testing.assert_frame_equal(old, new)
