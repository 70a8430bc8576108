"""The `installed_base` family: spare parts forecast from their causes (lib/maintenance/parts_demand).

Unlike the other families it reads more than the demand history: the installed base, the work orders
with their parts and the weather. `installed_base_family(inputs)` closes over them; at each fit (a
backtest cutoff, or the final fit) it refits the failure model on the work orders up to the last day
of the history it is given, so a backtest window never sees the orders of its future. It forecasts
only the materials the work orders used; the ensemble treats it like a capped member (its weight set
applies where it forecasts). Without enough failures to fit, it forecasts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from nova_assets.lib.forecasting.demand_class import DemandClass
from nova_assets.lib.forecasting.models import ModelFamily
from nova_assets.lib.forecasting.panel import FitSpec
from nova_assets.lib.maintenance.failure_model import fit_failure_model
from nova_assets.lib.maintenance.outlook import history_start
from nova_assets.lib.maintenance.parts_demand import FORECAST_COLUMNS, causal_parts_forecast

INSTALLED_BASE_FAMILY = "installed_base"


@dataclass(frozen=True)
class MaintenanceInputs:
    """The raw maintenance tables (contract columns) and weather_daily the member is computed from."""

    installed_base: pd.DataFrame
    work_orders: pd.DataFrame
    work_order_parts: pd.DataFrame
    weather: pd.DataFrame


def installed_base_family(inputs: MaintenanceInputs) -> ModelFamily:
    """The family over these inputs (every demand class: it forecasts whichever parts the orders use)."""

    def forecast(history: pd.DataFrame, classes: pd.Series, spec: FitSpec) -> pd.DataFrame:
        as_of = pd.Timestamp(history["ds"].max())
        orders = inputs.work_orders
        start = history_start(orders)
        empty = pd.DataFrame({c: pd.Series(dtype=float if c == "forecast" else object) for c in FORECAST_COLUMNS})
        if start is None or start >= as_of:
            return empty
        try:
            model = fit_failure_model(inputs.installed_base, orders, inputs.weather, start, as_of)
        except ValueError:  # no equipment type with enough failures before this cutoff
            return empty
        member = causal_parts_forecast(
            model, inputs.installed_base, orders, inputs.work_order_parts, as_of, spec.horizon
        ).long
        return member[member["unique_id"].isin(classes.index)]

    return ModelFamily(
        name=INSTALLED_BASE_FAMILY,
        description="parts from their causes: planned preventive orders plus expected failures x parts per failure",
        forecaster=forecast,
        classes=frozenset(DemandClass),
    )
