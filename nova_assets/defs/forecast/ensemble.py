"""The ensemble forecast and the backtest scores of every model beside it."""

import math
from dataclasses import asdict

import dagster as dg

from nova_assets.defs.critical_path import CRITICAL_PATH_TAGS
from nova_assets.defs.forecast.families import (
    FAMILY_SCORE,
    MAINTENANCE_INPUTS,
    SEASON,
    cycle_backtest_day,
    family_keys,
    load_maintenance_inputs,
    read_backtests,
    read_forecasts,
)
from nova_assets.defs.history import HISTORY_TABLES, load_history
from nova_assets.lib.demand_history import cycle_date as last_day
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.forecasting.metrics import bias_by_cutoff
from nova_assets.lib.forecasting.models import FAMILIES
from nova_assets.lib.forecasting.pipeline import build_ensemble
from nova_assets.lib.forecasting.serving import EnsembleModel
from nova_assets.lib.forecasting.tracking import RunRecord, family_model_uris, log_run, registered_model_name
from nova_assets.lib.lake_tables import (
    DEMAND_QUANTILES,
    ENSEMBLE_BACKTEST,
    ENSEMBLE_FORECAST,
    ENSEMBLE_WEIGHTS,
    MODEL_PERFORMANCE,
)
from nova_assets.lib.maintenance.outlook import phase_out_backtests, phase_out_members
from nova_assets.resources import CycleConfig, LakeResource, MlflowResource, lake_deps

# metadata: the ERP tables' record (ErpProvenance) the forecast was made from; the gold layer's label reads it
ERP_DATA = "erp_data"


@dg.asset(
    key_prefix="forecast",
    deps=[*family_keys(), *lake_deps(*HISTORY_TABLES, *MAINTENANCE_INPUTS)],
    kinds={"python", "mlflow"},
    op_tags=CRITICAL_PATH_TAGS,
)
def forecast_ensemble(
    context: dg.AssetExecutionContext, lake: LakeResource, mlflow: MlflowResource, cycle: CycleConfig
) -> dg.MaterializeResult:
    """Combination of the member models with weights learned per demand class on the backtest,
    and the demand quantiles (per day and cumulated over 1..H days) that inventory sizes buffers with. The
    statistical members of parts whose installed base is going are scaled down with it (phase_out_members),
    in the forecast and in every backtest window as it stood at the window's cutoff (phase_out_backtests).
    The backtests end on the cycle's backtest day (NOVA_BACKTEST_EVERY_DAYS), logged with the weights."""
    history = load_history(lake)
    through = cycle_backtest_day(cycle, history)
    parts = load_maintenance_inputs(lake)
    tables = (parts.installed_base, parts.work_orders, parts.work_order_parts)
    forecasts = phase_out_members(read_forecasts(lake), *tables, history["ds"].max())
    result = build_ensemble(history, phase_out_backtests(read_backtests(lake), *tables), forecasts, SEASON)
    performance = result.performance
    weights = result.weights.table()

    lake.write(ENSEMBLE_FORECAST, result.forecast[list(ENSEMBLE_FORECAST.columns)])
    backtest = result.ensemble_backtest
    lake.write(ENSEMBLE_BACKTEST, backtest[list(ENSEMBLE_BACKTEST.columns)])
    lake.write(MODEL_PERFORMANCE, performance)
    lake.write(ENSEMBLE_WEIGHTS, weights)
    lake.write(DEMAND_QUANTILES, result.quantiles)

    cycle_date = last_day(history["ds"])
    ens = performance.set_index("model").loc[ENSEMBLE_MODEL]
    members = family_model_uris(mlflow.tracking_uri, mlflow.experiment, list(FAMILIES), context.run_id)
    by_cutoff = bias_by_cutoff(backtest)
    fallback_counts = result.fallbacks[result.fallbacks["fallback"] != ""].groupby("fallback").size()
    erp = lake.erp_provenance()
    record = RunRecord(
        run_name=f"ensemble {cycle_date}",
        params={f"weight.{r.demand_class}.{r.model}": round(r.weight, 6) for r in weights.itertuples()}
        | {"cycle_date": cycle_date, "backtest_through": str(through)},
        metrics={m: float(ens[m]) for m in ("mase", "rmsse", "bias", "total_demand_error")}
        | {FAMILY_SCORE: float(ens["rmsse"])}  # the column every family's run has: one to sort all runs by
        | {
            f"{r.model}.{m}": float(getattr(r, m))  # every model on the same windows: the gold layer's figures
            for r in performance.itertuples()
            for m in ("rmsse", "n_series")
            if math.isfinite(float(getattr(r, m)))
        }
        | {f"bias.cutoff_{r.cutoff.date()}": r.bias for r in by_cutoff.itertuples()}
        | {"fallback_items": float(fallback_counts.sum())},
        tables={
            "weights": weights,
            "weight_choice": result.weights.report,
            "backtest_by_model": performance,
            "bias_by_cutoff": by_cutoff,
            "fallbacks": result.fallbacks,
        },
        tags={
            "dagster.run_id": context.run_id,
            "nova.family": "ensemble",
            "nova.cycle_date": str(cycle_date),
            "dagster.partition": context.run.tags.get("dagster/partition", ""),
            "nova.data": erp.describe(),
        },
        model=EnsembleModel(result.weights.by_class, list(members), parts),
        model_artifacts=members,
        registered_name=registered_model_name("ensemble"),
        score=("rmsse", float(ens["rmsse"])),
    )
    experiment_id, run_id, model_uri = log_run(mlflow.tracking_uri, mlflow.experiment, mlflow.artifact_root, record)
    return dg.MaterializeResult(
        metadata={
            "cycle_date": str(cycle_date),
            "data": erp.describe(),  # SYNTHETIC when the ERP tables are the sample's
            "backtest_through": str(through),
            "weights": dg.MetadataValue.md(weights.round(3).to_markdown(index=False)),
            "backtest": dg.MetadataValue.md(performance.round(3).to_markdown(index=False)),
            "ensemble_rmsse": float(ens["rmsse"]),
            # plotted across materializations by the Dagster UI: the aggregate bias cycle by cycle
            "ensemble_bias": float(ens["bias"]),
            "bias_by_backtest_cutoff": dg.MetadataValue.md(by_cutoff.round(3).to_markdown(index=False)),
            "fallbacks": dg.MetadataValue.md(
                fallback_counts.rename("items").reset_index().to_markdown(index=False)
                if len(fallback_counts)
                else "none"
            ),
            "champion": record.champion.describe() if record.champion else "",
            "mlflow_run": dg.MetadataValue.url(mlflow.run_url(experiment_id, run_id)),
            "mlflow_run_id": run_id,
            "mlflow_model_uri": model_uri,
            ERP_DATA: dg.MetadataValue.json(asdict(erp)),
        }
    )
