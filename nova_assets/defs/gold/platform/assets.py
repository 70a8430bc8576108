"""Gold tables of the planners' platform: the planner's forecast the cycle used, recent demand and
per-material backtest errors (the web app's material page reads them)."""

import dagster as dg
import pandas as pd

from nova_assets.defs.forecast.families import family_keys, read_backtests
from nova_assets.defs.gold.base.postgres import CORE_KEYS, forecast_cycle_date, gold_connection, load_cycle
from nova_assets.defs.history import HISTORY_TABLES, load_history
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.gold.loader import Scope, record_load, replace_rows
from nova_assets.lib.lake_tables import (
    ENSEMBLE_BACKTEST,
    ENSEMBLE_FORECAST,
    FORECAST_OVERRIDES,
    REORDER_POINTS,
)
from nova_assets.lib.platform.material_page import DEMAND_HISTORY_DAYS, model_errors, recent_demand
from nova_assets.resources import LakeResource, PostgresResource, lake_deps

GOLD = {"key_prefix": "gold", "kinds": {"postgres"}}


@dg.asset(**GOLD, deps=[*lake_deps(FORECAST_OVERRIDES, REORDER_POINTS), *CORE_KEYS])
def forecast_overrides(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """analytics.forecast_overrides: the planners' daily forecast the cycle used instead of the computed
    one (which stays in analytics.forecasts), so the value added of overrides can be measured."""
    planner = lake.read(FORECAST_OVERRIDES)
    cycle_date = pd.Timestamp(lake.read(REORDER_POINTS, ["cycle_date"])["cycle_date"].iloc[0]).date()
    frame = planner.drop(columns="cycle_date", errors="ignore").assign(
        forecast_date=lambda f: pd.to_datetime(f["forecast_date"]).dt.date
    )
    return load_cycle(context, gold, "analytics.forecast_overrides", cycle_date, frame)


@dg.asset(**GOLD, deps=[*lake_deps(*HISTORY_TABLES), *CORE_KEYS])
def demand_history(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """analytics.demand_history: the last DEMAND_HISTORY_DAYS days of daily demand per material, latest
    cycle only (the whole history stays in the lake)."""
    history = load_history(lake)
    cycle_date = history["ds"].max().date()
    frame = recent_demand(history).assign(cycle_date=cycle_date)
    with gold_connection(gold) as conn:
        result = replace_rows(conn, "analytics.demand_history", frame, Scope(), run_id=context.run_id)
        record_load(conn, cycle_date, "analytics.demand_history", context.run_id, result.rows_written)
    return dg.MaterializeResult(
        metadata={"rows": result.rows_written, "days": DEMAND_HISTORY_DAYS, "cycle_date": str(cycle_date)}
    )


@dg.asset(**GOLD, deps=[*lake_deps(ENSEMBLE_FORECAST, ENSEMBLE_BACKTEST), *family_keys(), *CORE_KEYS])
def material_model_errors(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """analytics.material_model_errors: every model's (and the ensemble's) backtest error per material."""
    backtests = [read_backtests(lake)]
    if lake.exists(ENSEMBLE_BACKTEST):
        backtests.append(lake.read(ENSEMBLE_BACKTEST).assign(model=ENSEMBLE_MODEL))
    frame = model_errors(pd.concat(backtests, ignore_index=True))
    cycle_date = forecast_cycle_date(lake.read(ENSEMBLE_FORECAST, ["ds"]))
    return load_cycle(context, gold, "analytics.material_model_errors", cycle_date, frame)
