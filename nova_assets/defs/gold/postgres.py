"""The Postgres gold layer: reference data, forecasts, reorder points, alerts, model scores."""

from datetime import date

import dagster as dg
import pandas as pd

from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.gold.loader import record_load, replace_cycle, upsert
from nova_assets.lib.gold.schema import migrate
from nova_assets.resources import LakeResource, PostgresResource

REFERENCE = {  # gold table -> (raw table, key)
    "core.suppliers": ("erp_suppliers", "supplier_id"),
    "core.materials": ("erp_materials", "material_id"),
    "core.sites": ("erp_sites", "site_id"),
}


def _load_cycle(
    context: dg.AssetExecutionContext, gold: PostgresResource, table: str, cycle_date: date, frame: pd.DataFrame
) -> dg.MaterializeResult:
    with gold.connect() as conn:
        migrate(conn)
        rows = replace_cycle(conn, table, cycle_date, frame)
        record_load(conn, cycle_date, table, context.run_id, rows)
    return dg.MaterializeResult(metadata={"table": table, "cycle_date": str(cycle_date), "rows": rows})


@dg.asset(
    key_prefix="gold",
    group_name="gold",
    kinds={"postgres"},
    deps=[dg.AssetKey(["raw", raw]) for raw, _ in REFERENCE.values()],
)
def core_reference(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """Suppliers, materials and sites, upserted by key."""
    counts = {}
    with gold.connect() as conn:
        migrate(conn)
        for table, (raw, key) in REFERENCE.items():
            counts[table] = upsert(conn, table, lake.read("raw", raw), [key])
    return dg.MaterializeResult(metadata={f"rows_{t}": n for t, n in counts.items()})


@dg.asset(
    key_prefix="gold",
    group_name="gold",
    kinds={"postgres"},
    deps=[dg.AssetKey(["forecast", "forecast_ensemble"]), core_reference],
)
def forecasts(context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource) -> dg.MaterializeResult:
    """Every model's and the ensemble's daily forecast for this cycle."""
    frame = lake.read("forecast", "ensemble").rename(columns={"unique_id": "material_id", "ds": "forecast_date"})
    cycle_date = (frame["forecast_date"].min() - pd.Timedelta(days=1)).date()
    frame["forecast_date"] = frame["forecast_date"].dt.date
    return _load_cycle(
        context, gold, "analytics.forecasts", cycle_date, frame[["material_id", "forecast_date", "model", "forecast"]]
    )


@dg.asset(
    key_prefix="gold", group_name="gold", kinds={"postgres"}, deps=[dg.AssetKey(["forecast", "forecast_ensemble"])]
)
def model_performance(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """Backtest scores per model, the ensemble included (same figures as MLflow)."""
    perf = lake.read("forecast", "model_performance")
    forecast = lake.read("forecast", "ensemble")
    cycle_date = (forecast["ds"].min() - pd.Timedelta(days=1)).date()
    frame = perf[["model", "family", "mase", "rmsse", "bias", "total_demand_error", "n_series"]]
    result = _load_cycle(context, gold, "analytics.model_performance", cycle_date, frame)
    ens = perf.set_index("model").loc[ENSEMBLE_MODEL]
    return dg.MaterializeResult(metadata={**result.metadata, "ensemble_rmsse": float(ens["rmsse"])})


@dg.asset(
    key_prefix="gold",
    group_name="gold",
    kinds={"postgres"},
    deps=[dg.AssetKey(["inventory", "reorder_points"]), core_reference],
)
def reorder_points(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    frame = lake.read("inventory", "reorder_points")
    cycle_date = frame.pop("cycle_date").iloc[0]
    return _load_cycle(context, gold, "analytics.reorder_points", cycle_date, frame)


@dg.asset(
    key_prefix="gold",
    group_name="gold",
    kinds={"postgres"},
    deps=[dg.AssetKey(["inventory", "alerts"]), core_reference],
)
def alerts(context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource) -> dg.MaterializeResult:
    """The dashboard's source: one row per material per cycle."""
    frame = lake.read("inventory", "alerts")
    cycle_date = frame.pop("cycle_date").iloc[0]
    return _load_cycle(context, gold, "analytics.alerts", cycle_date, frame)
