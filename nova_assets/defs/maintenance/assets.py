"""Maintenance in the lake: the cycle's failure model (fit, calibration backtest as an asset check,
failure forecast per tower, equipment type and month), the failure clusters per tower and equipment
type, and the obsolescence risk of parts whose installed base is going (lib/maintenance/outlook.py).
Without maintenance exports the tables are written empty and the metadata says why."""

import dagster as dg
import pandas as pd

from nova_assets.defs.history import load_cycle_date
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
    FAILURE_MODEL_SUMMARY,
    OBSOLESCENCE_RISK,
    WEATHER_DAILY,
)
from nova_assets.lib.maintenance.lifecycle import obsolescence_kpi
from nova_assets.lib.maintenance.outlook import equipment_clusters, failure_outlook, obsolescence
from nova_assets.resources import LakeResource, lake_deps

MAINTENANCE = {"key_prefix": "maintenance", "kinds": {"python", "scipy", "parquet"}}
FAILURE_MODEL_INPUTS = (ERP_INSTALLED_BASE, ERP_WORK_ORDERS, WEATHER_DAILY, DAILY_DEMAND)
CALIBRATED = "calibrated"


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
def failure_model(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Weibull-PH failure intensity per equipment type fitted on the work-order history, its failure
    forecast for the next months per tower and type, and its calibration backtest."""
    as_of = pd.Timestamp(load_cycle_date(lake))
    outlook = failure_outlook(
        lake.read(ERP_INSTALLED_BASE), lake.read(ERP_WORK_ORDERS), lake.read(WEATHER_DAILY), as_of
    )
    lake.write(FAILURE_MODEL_SUMMARY, outlook.summary)
    lake.write(FAILURE_CALIBRATION, outlook.calibration)
    lake.write(FAILURE_FORECAST, outlook.forecast)
    passed, verdict = outlook.calibrated()
    if outlook.reason:
        context.log.info(f"failure model not fitted: {outlook.reason}")
    return dg.MaterializeResult(
        metadata={
            "as_of": str(as_of.date()),
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
    deps=lake_deps(*FAILURE_MODEL_INPUTS, ERP_WORK_ORDER_PARTS, ERP_MATERIALS, ERP_STOCK),
)
def obsolescence_risk(lake: LakeResource) -> dg.MaterializeResult:
    """Parts whose installed base is phasing out or gone, and the value of their stock beyond what the
    remaining units will use (the failure model is refitted: a fit takes seconds, a stored one would
    need its own format)."""
    as_of = pd.Timestamp(load_cycle_date(lake))
    base, orders = lake.read(ERP_INSTALLED_BASE), lake.read(ERP_WORK_ORDERS)
    outlook = failure_outlook(base, orders, lake.read(WEATHER_DAILY), as_of, backtest=False)
    risk = obsolescence(
        outlook, base, orders, lake.read(ERP_WORK_ORDER_PARTS), lake.read(ERP_MATERIALS), lake.read(ERP_STOCK), as_of
    )
    lake.write(OBSOLESCENCE_RISK, risk)
    return dg.MaterializeResult(metadata={**obsolescence_kpi(risk), "at_risk": _markdown(risk.head(10))})
