"""One alert per material per cycle, from the project's policy, with a warning when data is stale."""

import dagster as dg
import pandas as pd

from nova_assets.defs.critical_path import CRITICAL_PATH_TAGS
from nova_assets.defs.inventory.settings import InventorySettings
from nova_assets.lib.inventory.alerts import SourceDate, evaluate, stale_warning
from nova_assets.lib.inventory.daily import site_at_risk
from nova_assets.lib.inventory.reorder import PROJECT_POLICY
from nova_assets.lib.lake_tables import (
    ALERTS,
    ECONOMICS_SELIC,
    ECONOMICS_USD_BRL,
    ERP_MATERIALS,
    ERP_MOVEMENTS,
    ERP_STOCK,
    REORDER_POINTS,
    WEATHER_DAILY,
    LakeTable,
)
from nova_assets.lib.sources.erp_tables import STOCK_MOVEMENT_COLUMNS
from nova_assets.lib.sources.quality import RULES, latest_date
from nova_assets.resources import LakeResource, SourcesResource, lake_deps

# the daily sources whose age makes an alert stale; each is judged by its own contract's freshness rule
FRESHNESS_SOURCES: tuple[LakeTable, ...] = (ERP_MOVEMENTS, ERP_STOCK, WEATHER_DAILY, ECONOMICS_SELIC, ECONOMICS_USD_BRL)


def source_dates(lake: LakeResource) -> list[SourceDate]:
    """Each daily source's newest date counted as its `fresh` check counts it, with the lag its rule allows."""
    dates = []
    for table in FRESHNESS_SOURCES:
        freshness = RULES[table.name].freshness
        assert freshness is not None, f"{table.name} has no freshness rule in its data contract"
        columns = [freshness.column, *([freshness.value_column] if freshness.value_column else [])]
        latest = latest_date(lake.read(table, columns), freshness)
        dates.append(SourceDate(table.name, latest, freshness.max_lag_days))
    return dates


@dg.asset(
    key_prefix="inventory",
    deps=lake_deps(REORDER_POINTS, ERP_MATERIALS, *FRESHNESS_SOURCES),
    kinds={"python"},
    op_tags=CRITICAL_PATH_TAGS,
)
def alerts(lake: LakeResource, sources: SourcesResource, inventory_settings: InventorySettings) -> dg.MaterializeResult:
    """Severity (CRÍTICO/ALTO/MÉDIO/OK), message, action and detail in Portuguese for every material.

    The data is stale when a daily source's newest date lags the cycle's as-of date (today in Salvador
    live, the snapshots' day offline, or NOVA_AS_OF_DATE) by more than its own freshness rule allows,
    the rule of its `fresh` check; every message then carries the warning naming the stale sources.
    """
    points = lake.read(REORDER_POINTS)
    points = points[points["policy"] == PROJECT_POLICY].set_index("material_id")
    cycle_date = pd.Timestamp(points["cycle_date"].iloc[0]).date()
    dates = source_dates(lake)
    as_of = min((d.latest for d in dates if d.latest is not None), default=None)
    warning = stale_warning(sources.as_of, dates)
    materials = lake.read(ERP_MATERIALS).set_index("material_id")
    sites = site_at_risk(
        lake.read(ERP_STOCK),
        lake.read(ERP_MOVEMENTS, STOCK_MOVEMENT_COLUMNS),
        points["mean_daily_demand"],
    )
    rows = []
    for material_id, item in points.iterrows():
        alert = evaluate(
            item["stock_position"],
            item["reorder_point"],
            item["days_until_stockout"],
            item["days_until_reorder_point"],
            item["lead_time_days"],
            item["suggested_order"],
            watch_days=float(inventory_settings.alert_watch_days),
        )
        rows.append(
            {
                "material_id": material_id,
                "severity": str(alert.severity),
                "message": alert.message,
                "action": alert.action,
                "detail": alert.detail,
                "order_quantity": alert.order_quantity,
                "stock_position": item["stock_position"],
                "reorder_point": item["reorder_point"],
                "days_until_stockout": item["days_until_stockout"],
                "days_until_reorder_point": item["days_until_reorder_point"],
                "lead_time_days": item["lead_time_days"],
                "category": materials.at[material_id, "category"],
                "criticality": materials.at[material_id, "criticality"],
                "site_id": sites.at[material_id, "site_id"],
            }
        )
    table = pd.DataFrame(rows).assign(
        cycle_date=cycle_date, data_as_of=as_of, is_stale=bool(warning), stale_warning=warning
    )
    lake.write(ALERTS, table)
    counts = table["severity"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={
            "cycle_date": str(cycle_date),
            "data": lake.erp_provenance().describe(),  # SYNTHETIC when the ERP tables are the sample's
            "data_as_of": str(as_of),
            "reference_date": str(sources.as_of),
            "source_dates": {d.table: str(d.latest) for d in dates},
            "stale_data": bool(warning),
            **{f"alerts_{k}": int(v) for k, v in counts.items()},
            "preview": dg.MetadataValue.md(
                table[table["severity"] != "OK"].drop(columns=["stale_warning"]).head(15).to_markdown(index=False)
            ),
        }
    )
