"""The `installed_base` family: spare parts forecast from their causes (lib/maintenance/parts_demand).

Unlike the other families it reads more than the demand history: the installed base, the work orders
with their parts and the weather (`MaintenanceInputs`). The registered family (models.FAMILIES) holds
none, so it forecasts nothing: on a plain demand file or an ERP without plant maintenance it is not
applicable. `models.with_maintenance(family, inputs)` binds the tables, as the cycle's family asset and
its MLflow model do. At each fit (a backtest cutoff, or the final fit) the bound family refits the failure model
on the work orders up to the last day of the history it is given, so a backtest window never sees the
orders of its future. It forecasts only the materials the work orders used; the ensemble treats it
like a capped member (its weight set applies where it forecasts). Without enough failures to fit, it
forecasts nothing.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from nova_assets.lib.forecasting.panel import FitSpec
from nova_assets.lib.maintenance.failure_model import fit_failure_model
from nova_assets.lib.maintenance.outlook import history_start
from nova_assets.lib.maintenance.parts_demand import FORECAST_COLUMNS, causal_parts_forecast

INSTALLED_BASE_FAMILY = "installed_base"
DESCRIPTION = "parts from their causes: planned preventive orders plus expected failures x parts per failure"


@dataclasses.dataclass(frozen=True)
class MaintenanceInputs:
    """The raw maintenance tables (contract columns) and weather_daily the member is computed from."""

    installed_base: pd.DataFrame
    work_orders: pd.DataFrame
    work_order_parts: pd.DataFrame
    weather: pd.DataFrame

    def applicable(self) -> bool:
        """Whether there is anything to forecast from: an installed base and work orders."""
        return not self.installed_base.empty and history_start(self.work_orders) is not None


def forecast(
    history: pd.DataFrame, classes: pd.Series, spec: FitSpec, inputs: MaintenanceInputs | None = None
) -> pd.DataFrame:
    """The causal member of the parts in `classes` after the history's last day (nothing without inputs)."""
    empty = pd.DataFrame({c: pd.Series(dtype=float if c == "forecast" else object) for c in FORECAST_COLUMNS})
    if inputs is None or not inputs.applicable():
        return empty
    as_of = pd.Timestamp(history["ds"].max())
    start = history_start(inputs.work_orders)
    if start >= as_of:
        return empty
    try:
        model = fit_failure_model(inputs.installed_base, inputs.work_orders, inputs.weather, start, as_of)
    except ValueError:  # no equipment type with enough failures before this cutoff
        return empty
    member = causal_parts_forecast(
        model, inputs.installed_base, inputs.work_orders, inputs.work_order_parts, as_of, spec.horizon
    ).long
    return member[member["unique_id"].isin(classes.index)]
