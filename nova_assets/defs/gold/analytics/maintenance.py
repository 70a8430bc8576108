"""Maintenance in gold: failure clusters per tower and equipment type (the web app's
/clustering/equipment-failure), the failure forecast, and the obsolescence risk with its KPI."""

import dagster as dg
import pandas as pd

from nova_assets.defs.gold.analytics.assets import GOLD, cycle_as_of
from nova_assets.defs.gold.base.postgres import CORE_KEYS, load_cycle
from nova_assets.lib.lake_tables import (
    DAILY_DEMAND,
    EQUIPMENT_FAILURE_CLUSTERS,
    FAILURE_FORECAST,
    OBSOLESCENCE_RISK,
    LakeTable,
)
from nova_assets.lib.maintenance.clusters import CLUSTER_COLUMNS
from nova_assets.lib.maintenance.lifecycle import obsolescence_kpi
from nova_assets.lib.maintenance.outlook import FAILURE_FORECAST_COLUMNS, RISK_COLUMNS
from nova_assets.resources import LakeResource, PostgresResource, lake_deps


def _cycle_rows(lake: LakeResource, table: LakeTable, columns: list[str]) -> tuple[pd.Timestamp, pd.DataFrame]:
    """The cycle's day and the lake table's gold columns."""
    return cycle_as_of(lake), lake.read(table)[columns]


@dg.asset(**GOLD, deps=[*lake_deps(EQUIPMENT_FAILURE_CLUSTERS, DAILY_DEMAND), *CORE_KEYS])
def equipment_failure_clusters(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """The cycle's failure clusters per tower and equipment type."""
    as_of, clusters = _cycle_rows(lake, EQUIPMENT_FAILURE_CLUSTERS, CLUSTER_COLUMNS)
    return load_cycle(context, gold, "analytics.equipment_failure_clusters", as_of.date(), clusters)


@dg.asset(**GOLD, deps=[*lake_deps(FAILURE_FORECAST, DAILY_DEMAND), *CORE_KEYS])
def failure_forecast(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """Expected failures per tower, equipment type and month (with the 90 % interval), as of the cycle."""
    as_of, forecast = _cycle_rows(lake, FAILURE_FORECAST, FAILURE_FORECAST_COLUMNS)
    return load_cycle(context, gold, "analytics.failure_forecast", as_of.date(), forecast)


@dg.asset(**GOLD, deps=[*lake_deps(OBSOLESCENCE_RISK, DAILY_DEMAND), *CORE_KEYS])
def obsolescence_risk(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """Parts without installed base left and the value of their excess stock; the KPI is its total."""
    as_of, risk = _cycle_rows(lake, OBSOLESCENCE_RISK, RISK_COLUMNS)
    kpi = obsolescence_kpi(risk)
    result = load_cycle(context, gold, "analytics.obsolescence_risk", as_of.date(), risk)
    load_cycle(context, gold, "analytics.obsolescence_kpi", as_of.date(), pd.DataFrame([kpi]))
    return dg.MaterializeResult(metadata={**result.metadata, **kpi})
