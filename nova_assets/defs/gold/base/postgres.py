"""The Postgres gold layer: schema and access, reference data, forecasts, reorder points, alerts, model scores."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import dagster as dg
import pandas as pd
import psycopg

from nova_assets.defs.forecast.families import family_keys, read_backtests
from nova_assets.lib.analytics.intervals import residual_intervals
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.gold.loader import record_load, replace_cycle, upsert
from nova_assets.lib.gold.partitions import drop_partitions_before, month_partitions
from nova_assets.lib.gold.regions import resolve_site_regions
from nova_assets.lib.gold.roles import BI_ROLE, configure_bi_role
from nova_assets.lib.gold.schema import available, migrate
from nova_assets.lib.lake_tables import (
    ALERTS,
    ENSEMBLE_BACKTEST,
    ENSEMBLE_FORECAST,
    ERP_MATERIALS,
    ERP_SITES,
    ERP_SUPPLIERS,
    MODEL_PERFORMANCE,
    REORDER_POINTS,
)
from nova_assets.resources import LakeResource, MlflowResource, PostgresResource, lake_deps

REFERENCE = {  # gold asset name -> (gold table, raw table, key)
    "core_suppliers": ("core.suppliers", ERP_SUPPLIERS, "supplier_id"),
    "core_materials": ("core.materials", ERP_MATERIALS, "material_id"),
    "core_sites": ("core.sites", ERP_SITES, "site_id"),
}
CORE_KEYS = [dg.AssetKey(["gold", name]) for name in [*REFERENCE, "core_regions"]]
DATABASE = dg.AssetKey(["gold", "database"])
INTERVAL_COLUMNS = ["forecast_lo", "forecast_hi", "interval_level"]
FORECASTS_TABLE = "analytics.forecasts"


class GoldAccessResource(dg.ConfigurableResource):
    """Who may read the gold layer: the BI role's password (NOVA_BI_PASSWORD; empty: NOLOGIN)."""

    bi_password: str = ""


class GoldRetentionResource(dg.ConfigurableResource):
    """How many days of forecast cycles the gold layer keeps (NOVA_GOLD_FORECAST_RETENTION_DAYS; 0 keeps all)."""

    forecast_retention_days: str

    @property
    def forecast_days(self) -> int:
        days = int(self.forecast_retention_days)
        if days < 0:
            raise ValueError(f"NOVA_GOLD_FORECAST_RETENTION_DAYS must be >= 0, not {days}")
        return days


@contextmanager
def gold_connection(gold: PostgresResource) -> Iterator[psycopg.Connection]:
    """A connection to an up-to-date gold schema (pending migrations applied first)."""
    with gold.connect() as conn:
        migrate(conn)
        yield conn


def load_cycle(
    context: dg.AssetExecutionContext, gold: PostgresResource, table: str, cycle_date: date, frame: pd.DataFrame
) -> dg.MaterializeResult:
    """Replace the cycle's rows of `table` (through staging, audited) and record the load."""
    with gold_connection(gold) as conn:
        rows = replace_cycle(conn, table, cycle_date, frame, run_id=context.run_id)
        record_load(conn, cycle_date, table, context.run_id, rows)
    return dg.MaterializeResult(metadata={"table": table, "cycle_date": str(cycle_date), "rows": rows})


@dg.asset(key_prefix="gold", kinds={"postgres"})
def database(gold: PostgresResource, gold_access: GoldAccessResource) -> dg.MaterializeResult:
    """Versioned migrations applied, and the read-only BI role configured from the environment."""
    with gold.connect() as conn:
        applied = migrate(conn)
        role = configure_bi_role(conn, gold_access.bi_password or None)
        version = conn.execute("SELECT max(version) FROM support.schema_migrations").fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            "schema_version": int(version),
            "applied_now": ", ".join(applied) or "none",
            "migrations": ", ".join(name for _, name, _ in available()),
            f"role_{BI_ROLE}": role,
        }
    )


@dg.multi_asset(
    specs=[
        *(
            dg.AssetSpec(
                ["gold", name],
                deps=[DATABASE, *lake_deps(raw)],
                kinds={"postgres"},
                description=f"{table}, upserted by {key}",
            )
            for name, (table, raw, key) in REFERENCE.items()
        ),
        dg.AssetSpec(
            ["gold", "core_regions"],
            deps=[DATABASE, *lake_deps(ERP_SITES)],
            kinds={"postgres"},
            description="core.regions: 27 states and the Territórios de Identidade of Bahia (migration "
            "0003), plus region names only the ERP uses",
        ),
    ],
)
def core_reference(context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource) -> Iterator:
    """Suppliers, materials and sites upserted by key; each site's region resolved to core.regions."""
    with gold_connection(gold) as conn:
        for name, (table, raw, key) in REFERENCE.items():
            frame = lake.read(raw)
            if table == "core.sites":
                frame, new_regions = resolve_site_regions(conn, frame)
                added = upsert(conn, "core.regions", new_regions, ["region_code"], run_id=context.run_id)
                total = conn.execute("SELECT count(*) FROM core.regions").fetchone()[0]
                yield dg.MaterializeResult(
                    asset_key=["gold", "core_regions"],
                    metadata={"regions_from_erp_upserted": added, "regions": int(total)},
                )
            rows = upsert(conn, table, frame, [key], run_id=context.run_id)
            yield dg.MaterializeResult(asset_key=["gold", name], metadata={"table": table, "rows": rows})


def forecast_cycle_date(forecast: pd.DataFrame) -> date:
    """The cycle a forecast belongs to: the day before its first forecast date."""
    return (pd.to_datetime(forecast["ds"]).min() - pd.Timedelta(days=1)).date()


def with_intervals(lake: LakeResource, forecast: pd.DataFrame) -> pd.DataFrame:
    """The forecasting layer's own interval columns when it writes them; otherwise empirical
    intervals from each model's backtest errors (the ensemble's need forecast/ensemble_backtest)."""
    if {"forecast_lo", "forecast_hi"} <= set(forecast.columns):
        level = forecast["interval_level"] if "interval_level" in forecast.columns else None
        return forecast.assign(interval_level=level)
    backtests = [read_backtests(lake)]
    if lake.exists(ENSEMBLE_BACKTEST):
        ensemble = lake.read(ENSEMBLE_BACKTEST)
        backtests.append(ensemble if "model" in ensemble.columns else ensemble.assign(model=ENSEMBLE_MODEL))
    backtest = pd.concat(backtests, ignore_index=True)[["unique_id", "ds", "model", "forecast", "y"]]
    return residual_intervals(forecast, backtest)


@dg.asset(
    key_prefix="gold",
    kinds={"postgres"},
    deps=[*lake_deps(ENSEMBLE_FORECAST), *family_keys(), *CORE_KEYS],
)
def forecasts(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource, gold_retention: GoldRetentionResource
) -> dg.MaterializeResult:
    """Every model's and the ensemble's daily forecast for this cycle, with a prediction interval.
    After the load, the monthly partitions older than the retention are dropped whole."""
    retention_days = gold_retention.forecast_days  # a bad setting fails before anything is loaded
    frame = with_intervals(lake, lake.read(ENSEMBLE_FORECAST))
    cycle_date = forecast_cycle_date(frame)
    frame = frame.rename(columns={"unique_id": "material_id", "ds": "forecast_date"})
    frame["forecast_date"] = pd.to_datetime(frame["forecast_date"]).dt.date
    result = load_cycle(
        context,
        gold,
        FORECASTS_TABLE,
        cycle_date,
        frame[["material_id", "forecast_date", "model", "forecast", *INTERVAL_COLUMNS]],
    )
    covered = float(frame["forecast_lo"].notna().mean()) if len(frame) else 0.0
    return dg.MaterializeResult(
        metadata={
            **result.metadata,
            "share_with_interval": round(covered, 3),
            **apply_forecast_retention(context, gold, cycle_date, retention_days),
        }
    )


def apply_forecast_retention(
    context: dg.AssetExecutionContext, gold: PostgresResource, cycle_date: date, days: int
) -> dict[str, object]:
    """Drop the forecast partitions whose cycles are all older than `days` before `cycle_date` (0: keep all)."""
    dropped: list[str] = []
    with gold_connection(gold) as conn:
        if days:
            try:
                dropped = drop_partitions_before(conn, FORECASTS_TABLE, cycle_date - timedelta(days=days))
            except psycopg.errors.LockNotAvailable:
                context.log.warning(f"{FORECASTS_TABLE} busy: retention skipped, the next cycle tries again")
        kept = month_partitions(conn, FORECASTS_TABLE)
    return {
        "retention_days": days,
        "partitions_dropped": ", ".join(dropped) or "none",
        "partitions": len(kept),
        "oldest_partition": kept[0].name if kept else "none",
    }


def mlflow_run_ids(mlflow: MlflowResource, cycle_date: date, families: list[str]) -> dict[str, str]:
    """The latest MLflow run of each model family for the cycle (tags nova.family, nova.cycle_date)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow.tracking_uri)
    experiment = client.get_experiment_by_name(mlflow.experiment)
    if experiment is None:
        return {}
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`nova.cycle_date` = '{cycle_date.isoformat()}'",  # a date, not user input
        order_by=["attributes.start_time DESC"],
        max_results=500,
    )
    found: dict[str, str] = {}
    for run in runs:
        family = run.data.tags.get("nova.family")
        if family in families and family not in found:
            found[family] = run.info.run_id
    return found


@dg.asset(
    key_prefix="gold",
    kinds={"postgres"},
    deps=[*lake_deps(MODEL_PERFORMANCE), DATABASE],
)
def model_performance(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource, mlflow: MlflowResource
) -> dg.MaterializeResult:
    """Backtest scores per model, the ensemble included, as the ensemble step compares them (the figures
    of the ensemble's MLflow run), each linked to its family's MLflow run."""
    perf = lake.read(MODEL_PERFORMANCE)
    cycle_date = forecast_cycle_date(lake.read(ENSEMBLE_FORECAST, ["ds"]))
    try:
        run_ids = mlflow_run_ids(mlflow, cycle_date, sorted(perf["family"].dropna().unique()))
    except Exception as exc:  # the scores still load; only the links are missing
        context.log.warning(f"MLflow run ids not found: {exc}")
        run_ids = {}
    frame = perf[["model", "family", "mase", "rmsse", "bias", "total_demand_error", "n_series"]].assign(
        mlflow_run_id=perf["family"].map(run_ids)
    )
    result = load_cycle(context, gold, "analytics.model_performance", cycle_date, frame)
    return dg.MaterializeResult(metadata={**result.metadata, "linked_mlflow_runs": len(run_ids)})


@dg.asset(
    key_prefix="gold",
    kinds={"postgres"},
    deps=[*lake_deps(REORDER_POINTS), *CORE_KEYS],
)
def reorder_points(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """Reorder point, safety stock and order quantity per material and site for the cycle (planner
    overrides applied), which the dashboard, the API and the alerts show."""
    frame = lake.read(REORDER_POINTS)
    cycle_date = frame.pop("cycle_date").iloc[0]
    return load_cycle(context, gold, "analytics.reorder_points", cycle_date, frame)


@dg.asset(
    key_prefix="gold",
    kinds={"postgres"},
    deps=[*lake_deps(ALERTS), *CORE_KEYS],
)
def alerts(context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource) -> dg.MaterializeResult:
    """The dashboard's source: one row per material per cycle."""
    frame = lake.read(ALERTS)
    cycle_date = frame.pop("cycle_date").iloc[0]
    return load_cycle(context, gold, "analytics.alerts", cycle_date, frame)
