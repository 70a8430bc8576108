"""The installed_base family: the causal member through the families' entry points, refitted at
each backtest cutoff on the orders known then."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import mlflow
from nova_assets.lib.forecasting.installed_base import INSTALLED_BASE_FAMILY, MaintenanceInputs
from nova_assets.lib.forecasting.models import (
    BACKTEST_COLUMNS,
    FAMILIES,
    LONG_COLUMNS,
    cross_validate,
    fit_predict,
    with_maintenance,
)
from nova_assets.lib.forecasting.panel import regularise
from nova_assets.lib.forecasting.serving import FamilyModel, FamilySettings
from nova_assets.lib.forecasting.tracking import RunRecord, log_run
from nova_assets.lib.maintenance.parts_demand import INSTALLED_BASE_MODEL, order_parts
from tests.unit import maintenance_data


def _history(data) -> pd.DataFrame:
    issued = order_parts(data.work_orders, data.work_order_parts)
    issued = issued[issued["movement_date"] <= pd.Timestamp(maintenance_data.END)]
    daily = issued.groupby(["material_id", "movement_date"], as_index=False)["quantity"].sum()
    return regularise(daily.rename(columns={"material_id": "unique_id", "movement_date": "ds", "quantity": "y"}), "D")


def test_the_family_forecasts_the_parts_the_orders_use_and_backtests_on_the_past_only() -> None:
    data = maintenance_data.sample(12, 7)
    family = with_maintenance(
        FAMILIES[INSTALLED_BASE_FAMILY],
        MaintenanceInputs(data.installed_base, data.work_orders, data.work_order_parts, maintenance_data.weather()),
    )
    history = _history(data)
    forecast = fit_predict(history, family, horizon=28, season=7)
    assert list(forecast.columns) == LONG_COLUMNS and set(forecast["model"]) == {INSTALLED_BASE_MODEL}
    assert set(forecast["unique_id"]) <= set(history["unique_id"]) and forecast["forecast"].sum() > 0
    assert forecast["ds"].min() == history["ds"].max() + pd.Timedelta(days=1)
    backtest = cross_validate(history, family, horizon=28, season=7, n_windows=2)
    assert list(backtest.columns) == BACKTEST_COLUMNS and backtest["cutoff"].nunique() == 2
    # a window's forecast covers the known plan: over the 28 days it is within half of what was issued
    per_window = backtest.groupby("cutoff")[["forecast", "y"]].sum()
    assert ((per_window["forecast"] / per_window["y"]).between(0.5, 1.5)).all(), per_window


def test_without_enough_failures_it_forecasts_nothing() -> None:
    data = maintenance_data.sample(12, 7)
    few = data.work_orders[data.work_orders["kind"] != "corrective"]
    family = with_maintenance(
        FAMILIES[INSTALLED_BASE_FAMILY],
        MaintenanceInputs(data.installed_base, few, data.work_order_parts, maintenance_data.weather()),
    )
    assert fit_predict(_history(data), family, horizon=7, season=7).empty


def test_without_maintenance_tables_it_is_not_applicable() -> None:
    """The registered family on a plain demand history (nova forecast --input, carparts/AUTO) and
    bound to an ERP without plant maintenance (empty tables): no rows, no error."""
    data = maintenance_data.sample(12, 7)
    history = _history(data)
    registered = FAMILIES[INSTALLED_BASE_FAMILY]
    assert fit_predict(history, registered, horizon=7, season=7).empty
    assert cross_validate(history, registered, horizon=7, season=7, n_windows=2).empty
    empty = MaintenanceInputs(
        *(frame.iloc[0:0] for frame in (data.installed_base, data.work_orders, data.work_order_parts)),
        maintenance_data.weather(),
    )
    assert fit_predict(history, with_maintenance(registered, empty), horizon=7, season=7).empty


def test_its_mlflow_model_carries_the_maintenance_tables(tmp_path: Path) -> None:
    """The served model refits from the cycle's maintenance tables: the history alone is not enough."""
    data = maintenance_data.sample(12, 7)
    inputs = MaintenanceInputs(data.installed_base, data.work_orders, data.work_order_parts, maintenance_data.weather())
    history = _history(data)
    settings = FamilySettings(INSTALLED_BASE_FAMILY, horizon=7, season=7)
    record = RunRecord(run_name="installed_base", model=FamilyModel(settings, {}, inputs))
    previous = mlflow.get_tracking_uri()
    try:
        _, _, uri = log_run(f"sqlite:///{tmp_path / 'mlflow.db'}", "serving-test", str(tmp_path / "art"), record)
        served = mlflow.pyfunc.load_model(uri).predict(history)
    finally:
        mlflow.set_tracking_uri(previous)
    expected = fit_predict(history, with_maintenance(FAMILIES[INSTALLED_BASE_FAMILY], inputs), horizon=7, season=7)
    assert len(served) > 0
    pd.testing.assert_frame_equal(served.reset_index(drop=True), expected, check_dtype=False)
