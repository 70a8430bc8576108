"""One asset per model family: backtest, fit on all history, forecast, log to MLflow."""

import dagster as dg
import pandas as pd

from nova_assets.defs.forecast.history import DEMAND_ASSET, load_history
from nova_assets.lib.forecasting.backtest import score_windows, summarise
from nova_assets.lib.forecasting.models import FAMILIES, ModelFamily
from nova_assets.lib.forecasting.pipeline import run_family
from nova_assets.lib.forecasting.serving import FamilyModel, FamilySettings
from nova_assets.lib.forecasting.tracking import RunRecord, forecast_vs_actual, log_run
from nova_assets.resources import CycleConfig, LakeResource, MlflowResource

SEASON = 7
BACKTEST_WINDOWS = 2
N_JOBS = 2
# Each family uses both cores (process pools, OpenMP/BLAS threads): one family at a time, or two
# assets' threads fight over two cores and both run several times slower.
POOL = "forecast"


def _family_asset(family: ModelFamily) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"forecast_{family.name}",
        key_prefix="forecast",
        group_name="forecast",
        deps=[dg.AssetKey(DEMAND_ASSET)],
        kinds={"python", "mlflow"},
        pool=POOL,
        description=f"{family.description}. Rolling-origin backtest, then a forecast from all history.",
    )
    def _asset(
        context: dg.AssetExecutionContext, lake: LakeResource, mlflow: MlflowResource, cycle: CycleConfig
    ) -> dg.MaterializeResult:
        history = load_history(lake)
        horizon = cycle.horizon
        run = run_family(history, family, horizon, SEASON, BACKTEST_WINDOWS, N_JOBS)
        backtest, forecast = run.backtest, run.forecast
        scores = score_windows(history, backtest, SEASON)
        per_model = summarise(scores, ["model"])
        lake.write("forecast", family.name, forecast)
        lake.write("forecast", f"{family.name}_backtest", backtest)

        cycle_date = history["ds"].max().date()
        metrics = {
            f"{row.model}.{m}": getattr(row, m)
            for row in per_model.itertuples()
            for m in ("mase", "rmsse", "bias", "total_demand_error")
        }
        experiment_id, run_id, model_uri = log_run(
            mlflow.tracking_uri,
            mlflow.experiment,
            mlflow.artifact_root,
            RunRecord(
                run_name=f"{family.name} {cycle_date}",
                params={
                    "family": family.name,
                    "models": ",".join(sorted(forecast["model"].unique())),
                    "horizon_days": horizon,
                    "season": SEASON,
                    "backtest_windows": BACKTEST_WINDOWS,
                    "n_series": history["unique_id"].nunique(),
                    "cycle_date": cycle_date,
                },
                metrics=metrics,
                tables={"backtest_by_model": per_model, "backtest_by_item": scores},
                figures={"forecast_vs_actual": forecast_vs_actual(backtest)},
                tags={
                    "dagster.run_id": context.run_id,
                    "nova.family": family.name,
                    "dagster.partition": context.run.tags.get("dagster/partition", ""),
                    "nova.cycle_date": str(cycle_date),
                    "nova.data": "synthetic sample unless an ERP export was loaded",
                },
                model=FamilyModel(FamilySettings(family.name, horizon, SEASON, n_jobs=N_JOBS), run.memo),
            ),
        )
        return dg.MaterializeResult(
            metadata={
                "cycle_date": str(cycle_date),
                "n_series": history["unique_id"].nunique(),
                "forecast_rows": len(forecast),
                "seconds": round(run.seconds, 1),
                "backtest": dg.MetadataValue.md(per_model.round(3).to_markdown(index=False)),
                "mlflow_run": dg.MetadataValue.url(mlflow.run_url(experiment_id, run_id)),
                "mlflow_run_id": run_id,
                "mlflow_model_uri": model_uri,
            }
        )

    return _asset


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[_family_asset(f) for f in FAMILIES.values()])


def family_keys() -> list[dg.AssetKey]:
    return [dg.AssetKey(["forecast", f"forecast_{name}"]) for name in FAMILIES]


def read_backtests(lake: LakeResource) -> pd.DataFrame:
    return pd.concat(
        [lake.read("forecast", f"{name}_backtest").assign(family=name) for name in FAMILIES], ignore_index=True
    )


def read_forecasts(lake: LakeResource) -> pd.DataFrame:
    return pd.concat([lake.read("forecast", name).assign(family=name) for name in FAMILIES], ignore_index=True)
