"""Maintenance in the lake: the cycle's failure model (fit, calibration backtest as an asset check,
failure forecast per tower, equipment type and month), the failure clusters per tower and equipment
type, and the obsolescence risk of parts whose installed base is going (lib/maintenance/outlook.py).
Without maintenance exports the tables are written empty and the metadata says why."""

import dagster as dg
import pandas as pd

from nova_assets.defs.history import load_cycle_date
from nova_assets.lib.forecasting.tracking import RunRecord, log_run
from nova_assets.lib.lake_tables import (
    DAILY_DEMAND,
    EQUIPMENT_FAILURE_CLUSTERS,
    ERP_INSTALLED_BASE,
    ERP_MATERIALS,
    ERP_STOCK,
    ERP_WORK_ORDER_PARTS,
    ERP_WORK_ORDERS,
    FAILURE_CALIBRATION,
    FAILURE_FORECAST,
    FAILURE_MODEL,
    FAILURE_MODEL_SUMMARY,
    OBSOLESCENCE_RISK,
    WEATHER_DAILY,
)
from nova_assets.lib.maintenance.failure_model import FailureModel
from nova_assets.lib.maintenance.lifecycle import obsolescence_kpi
from nova_assets.lib.maintenance.outlook import FailureOutlook, equipment_clusters, failure_outlook, obsolescence
from nova_assets.resources import LakeResource, MlflowResource, lake_deps

MAINTENANCE = {"key_prefix": "maintenance", "kinds": {"python", "scipy", "parquet"}}
FAILURE_MODEL_INPUTS = (ERP_INSTALLED_BASE, ERP_WORK_ORDERS, WEATHER_DAILY, DAILY_DEMAND)
CALIBRATED = "calibrated"
FAILURE_MODEL_RUN = "failure_model"  # its MLflow run's name prefix and `nova.model` tag


def _markdown(frame: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.round(3).to_markdown(index=False) if len(frame) else "none")


@dg.asset(
    **MAINTENANCE,
    deps=lake_deps(*FAILURE_MODEL_INPUTS),
    check_specs=[
        dg.AssetCheckSpec(
            CALIBRATED,
            asset=dg.AssetKey(["maintenance", "failure_model"]),
            description="rolling-origin backtest of the failure model: observed/expected failures and 90 % "
            "interval coverage within their accepted ranges (lib/maintenance/outlook.py)",
        )
    ],
)
def failure_model(
    context: dg.AssetExecutionContext, lake: LakeResource, mlflow: MlflowResource
) -> dg.MaterializeResult:
    """Weibull-PH failure intensity per equipment type fitted on the work-order history, its failure
    forecast for the next months per tower and type, and its calibration backtest; the parameters and
    the calibration are logged as an MLflow run beside the forecast families'."""
    as_of = pd.Timestamp(load_cycle_date(lake))
    outlook = failure_outlook(
        lake.read(ERP_INSTALLED_BASE), lake.read(ERP_WORK_ORDERS), lake.read(WEATHER_DAILY), as_of
    )
    lake.write_json(FAILURE_MODEL, None if outlook.model is None else outlook.model.to_json())
    lake.write(FAILURE_MODEL_SUMMARY, outlook.summary)
    lake.write(FAILURE_CALIBRATION, outlook.calibration)
    lake.write(FAILURE_FORECAST, outlook.forecast)
    passed, verdict = outlook.calibrated()
    if outlook.reason:
        context.log.info(f"failure model not fitted: {outlook.reason}")
    record = _failure_model_run(context, outlook, as_of, lake.erp_provenance().describe())
    experiment_id, run_id, _ = log_run(mlflow.tracking_uri, mlflow.experiment, mlflow.artifact_root, record)
    return dg.MaterializeResult(
        metadata={
            "as_of": str(as_of.date()),
            "mlflow_run": dg.MetadataValue.url(mlflow.run_url(experiment_id, run_id)),
            "mlflow_run_id": run_id,
            "fitted": outlook.model is not None,
            **({"reason": outlook.reason} if outlook.reason else {}),
            **({"notes": dg.MetadataValue.json(outlook.notes)} if outlook.notes else {}),
            "parameters": _markdown(outlook.summary),
            "calibration": _markdown(outlook.calibration),
            "expected_failures_next_months": float(outlook.forecast["expected"].sum()),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=CALIBRATED,
                passed=passed,
                severity=dg.AssetCheckSeverity.WARN,
                description=verdict,
            )
        ],
    )


def _failure_model_run(
    context: dg.AssetExecutionContext, outlook: FailureOutlook, as_of: pd.Timestamp, provenance: str
) -> RunRecord:
    """The MLflow run of the cycle's failure model: parameters per type (summary.csv), calibration per
    type (calibration.csv) and the pooled calibration as metrics."""
    pooled = outlook.calibration[outlook.calibration["equipment_type"] == "all"]
    metrics = {
        f"calibration.{column}": float(pooled.iloc[0][column])
        for column in ("observed_over_expected", "coverage_90", "expected", "observed")
        if not pooled.empty
    }
    metrics |= {f"{row.equipment_type}.shape": float(row.shape) for row in outlook.summary.itertuples()}
    return RunRecord(
        run_name=f"{FAILURE_MODEL_RUN} {as_of.date()}",
        params={
            "as_of": str(as_of.date()),
            "fitted": outlook.model is not None,
            "equipment_types": ",".join(sorted(outlook.summary["equipment_type"].astype(str))),
            **({"reason": outlook.reason} if outlook.reason else {}),
        },
        metrics=metrics,
        tables={"summary": outlook.summary, "calibration": outlook.calibration},
        tags={
            "dagster.run_id": context.run_id,
            "nova.model": FAILURE_MODEL_RUN,
            "dagster.partition": context.run.tags.get("dagster/partition", ""),
            "nova.cycle_date": str(as_of.date()),
            "nova.data": provenance,
        },
    )


@dg.asset(
    **MAINTENANCE,
    deps=lake_deps(ERP_INSTALLED_BASE, ERP_WORK_ORDERS, ERP_WORK_ORDER_PARTS, ERP_MATERIALS, DAILY_DEMAND),
)
def equipment_failure_clusters(lake: LakeResource) -> dg.MaterializeResult:
    """Failure rate, MTBF and repair parts cost per tower and equipment type, clustered (k-means)."""
    as_of = pd.Timestamp(load_cycle_date(lake))
    clusters = equipment_clusters(
        lake.read(ERP_INSTALLED_BASE),
        lake.read(ERP_WORK_ORDERS),
        lake.read(ERP_WORK_ORDER_PARTS),
        lake.read(ERP_MATERIALS),
        as_of,
    )
    lake.write(EQUIPMENT_FAILURE_CLUSTERS, clusters)
    return dg.MaterializeResult(metadata={"rows": len(clusters), "preview": _markdown(clusters.head(10))})


@dg.asset(
    **MAINTENANCE,
    deps=lake_deps(
        FAILURE_MODEL, ERP_INSTALLED_BASE, ERP_WORK_ORDERS, ERP_WORK_ORDER_PARTS, ERP_MATERIALS, ERP_STOCK, DAILY_DEMAND
    ),
)
def obsolescence_risk(lake: LakeResource) -> dg.MaterializeResult:
    """Parts whose installed base is phasing out or gone, and the value of their stock beyond what the
    remaining units will use, forecast with the failure model the cycle fitted (maintenance/failure_model)."""
    as_of = pd.Timestamp(load_cycle_date(lake))
    stored = lake.read_json(FAILURE_MODEL)
    model = None if stored is None else FailureModel.from_json(stored)
    risk = obsolescence(
        model,
        lake.read(ERP_INSTALLED_BASE),
        lake.read(ERP_WORK_ORDERS),
        lake.read(ERP_WORK_ORDER_PARTS),
        lake.read(ERP_MATERIALS),
        lake.read(ERP_STOCK),
        as_of,
    )
    lake.write(OBSOLESCENCE_RISK, risk)
    return dg.MaterializeResult(metadata={**obsolescence_kpi(risk), "at_risk": _markdown(risk.head(10))})
