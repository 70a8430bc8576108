"""The ensemble forecast and the backtest scores of every model beside it."""

import dagster as dg
import pandas as pd

from nova_assets.defs.forecast.families import family_keys, read_backtests, read_forecasts
from nova_assets.defs.forecast.history import load_history
from nova_assets.lib.forecasting.backtest import score_windows, summarise
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL, combine, equal_weights
from nova_assets.lib.forecasting.tracking import RunRecord, log_run
from nova_assets.resources import LakeResource, MlflowResource

SEASON = 7


@dg.asset(key_prefix="forecast", group_name="forecast", deps=family_keys(), kinds={"python", "mlflow"})
def forecast_ensemble(
    context: dg.AssetExecutionContext, lake: LakeResource, mlflow: MlflowResource
) -> dg.MaterializeResult:
    """Weighted combination of the member models (equal weights until they are learned)."""
    history = load_history(lake)
    backtests = read_backtests(lake)
    forecasts = read_forecasts(lake)
    weights = equal_weights(list(forecasts["model"].unique()))

    ensemble_backtest = combine(backtests, weights, ["unique_id", "ds", "cutoff"])
    scored = score_windows(history, pd.concat([backtests, ensemble_backtest], ignore_index=True), SEASON)
    performance = summarise(scored, ["model"])
    family_of = dict(zip(backtests["model"], backtests["family"], strict=False)) | {ENSEMBLE_MODEL: "ensemble"}
    performance["family"] = performance["model"].map(family_of)

    ensemble = combine(forecasts, weights, ["unique_id", "ds"])
    members = forecasts[["unique_id", "ds", "model", "forecast"]]
    all_forecasts = pd.concat([members, ensemble[["unique_id", "ds", "model", "forecast"]]], ignore_index=True)
    lake.write("forecast", "ensemble", all_forecasts)
    lake.write("forecast", "model_performance", performance)

    cycle_date = history["ds"].max().date()
    ens = performance.set_index("model").loc[ENSEMBLE_MODEL]
    experiment_id, run_id = log_run(
        mlflow.tracking_uri, mlflow.experiment, mlflow.artifact_root,
        RunRecord(
            run_name=f"ensemble {cycle_date}",
            params={f"weight.{m}": round(w, 6) for m, w in weights.items()} | {"cycle_date": cycle_date},
            metrics={m: float(ens[m]) for m in ("mase", "rmsse", "bias", "total_demand_error")},
            tables={"weights": pd.DataFrame({"model": list(weights), "weight": list(weights.values())}),
                    "backtest_by_model": performance},
            tags={"dagster.run_id": context.run_id, "nova.family": "ensemble", "nova.cycle_date": str(cycle_date)},
        ),
    )
    return dg.MaterializeResult(
        metadata={
            "cycle_date": str(cycle_date),
            "weights": weights,
            "backtest": dg.MetadataValue.md(performance.round(3).to_markdown(index=False)),
            "ensemble_rmsse": float(ens["rmsse"]),
            "mlflow_run": dg.MetadataValue.url(mlflow.run_url(experiment_id, run_id)),
            "mlflow_run_id": run_id,
        }
    )
