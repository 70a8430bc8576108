"""The global boosting models take the advance demand (the preventive plan) as features, counting only
the lines known at each origin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.forecasting import boosting
from nova_assets.lib.forecasting.installed_base import MaintenanceInputs
from nova_assets.lib.forecasting.models import FAMILIES, with_maintenance
from nova_assets.lib.forecasting.panel import ADVANCE_DEMAND_COLUMNS, FitSpec
from tests.unit import maintenance_data

HORIZON = 28
LEAD_DAYS = 42  # the plan is known six weeks ahead, longer than the horizon


def _planned_business(known_lead_days: int = LEAD_DAYS) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Ten parts whose demand is exactly their plan: 1-5 units on random days, each planned line known
    `known_lead_days` before it is due and done on the day. History, plan lines, the horizon's demand."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2024-01-01", periods=400 + HORIZON, freq="D")
    history, plan = [], []
    for i in range(10):
        due = rng.random(len(days)) < 0.08
        quantity = rng.integers(1, 6, len(days)).astype(float) * due
        history.append(pd.DataFrame({"unique_id": f"M{i}", "ds": days, "y": quantity}))
        plan.append(
            pd.DataFrame(
                {
                    "unique_id": f"M{i}",
                    "ds": days[due],
                    "known_from": days[due] - pd.Timedelta(days=known_lead_days),
                    "known_until": days[due],
                    "quantity": quantity[due],
                }
            )
        )
    demand = pd.concat(history, ignore_index=True)
    cutoff = days[-HORIZON - 1]
    future = demand[demand["ds"] > cutoff].set_index(["unique_id", "ds"])["y"]
    return demand[demand["ds"] <= cutoff], pd.concat(plan, ignore_index=True), future


def _rmse(history: pd.DataFrame, future: pd.Series, plan: pd.DataFrame | None) -> pd.Series:
    classes = pd.Series("lumpy", index=history["unique_id"].unique())
    forecast = boosting.forecast(history, classes, FitSpec(horizon=HORIZON, season=7, n_jobs=2), advance_demand=plan)
    forecast = forecast.join(future.rename("y"), on=["unique_id", "ds"])
    assert forecast["y"].notna().all()
    return ((forecast["forecast"] - forecast["y"]) ** 2).groupby(forecast["model"]).mean() ** 0.5


def test_demand_that_is_the_plan_is_forecast_near_exactly_with_the_plan() -> None:
    history, plan, future = _planned_business()
    without, with_plan = _rmse(history, future, None), _rmse(history, future, plan)
    spread = future.std()
    assert (without > 0.8 * spread).all(), without  # the history alone cannot tell the days
    assert (with_plan < 0.1 * spread).all(), with_plan


def test_a_plan_not_yet_known_at_the_origin_is_not_used() -> None:
    """Lines created after the forecast origin (known 7 days ahead, the horizon is 28) must not reach
    the far end of the horizon: there the forecast is as blind as without a plan."""
    history, plan, future = _planned_business(known_lead_days=7)
    classes = pd.Series("lumpy", index=history["unique_id"].unique())
    spec = FitSpec(horizon=HORIZON, season=7, n_jobs=2)
    forecast = boosting.forecast(history, classes, spec, advance_demand=plan)
    forecast = forecast.join(future.rename("y"), on=["unique_id", "ds"])
    known = forecast["ds"] <= history["ds"].max() + pd.Timedelta(days=7)
    for model, rows in forecast.groupby("model"):
        sooner, later = rows[known.loc[rows.index]], rows[~known.loc[rows.index]]
        assert np.corrcoef(sooner["forecast"], sooner["y"])[0, 1] > 0.7, model
        assert abs(np.corrcoef(later["forecast"], later["y"])[0, 1]) < 0.3, model


@pytest.mark.parametrize(("freq", "alias"), [("W", "W-SUN"), ("M", "MS")])
def test_the_plan_is_read_on_weekly_and_monthly_panels(freq: str, alias: str) -> None:
    """Each line counts in the period holding its date, so a period's demand is its planned lines."""
    history, plan, _ = _planned_business(known_lead_days=400)
    periodic = history.set_index("ds").groupby("unique_id")["y"].resample(alias).sum().reset_index()
    panel_dates = pd.DatetimeIndex(sorted(periodic["ds"].unique()))
    features = boosting._AdvanceDemand(plan, np.sort(periodic["unique_id"].unique()), panel_dates, freq)
    last = len(panel_dates) - 1
    rows, targets = np.repeat(np.arange(10), last), np.tile(np.arange(1, last + 1), 10)
    due, _ = features.known_at(rows, np.zeros_like(rows), targets)
    expected = periodic.pivot(index="unique_id", columns="ds", values="y").to_numpy()[rows, targets]
    np.testing.assert_allclose(due[targets < last], expected[targets < last])  # the last period is partial


def test_the_cycle_binds_the_preventive_plan_to_the_boosting_family_only_where_there_is_one() -> None:
    """What the family asset and its MLflow model do (models.with_maintenance): the plan's part lines
    reach the boosting forecaster; without maintenance tables it forecasts from the history alone."""
    data = maintenance_data.sample()
    inputs = MaintenanceInputs(data.installed_base, data.work_orders, data.work_order_parts, maintenance_data.weather())
    bound = with_maintenance(FAMILIES["gradient_boosting"], inputs).forecaster
    plan = bound.keywords["advance_demand"]
    assert list(plan.columns) == ADVANCE_DEMAND_COLUMNS and len(plan) > 0
    empty = MaintenanceInputs(
        *(frame.iloc[0:0] for frame in (data.installed_base, data.work_orders, data.work_order_parts)), inputs.weather
    )
    assert with_maintenance(FAMILIES["gradient_boosting"], empty).forecaster.keywords["advance_demand"] is None
    assert with_maintenance(FAMILIES["intermittent"], inputs) is FAMILIES["intermittent"]
