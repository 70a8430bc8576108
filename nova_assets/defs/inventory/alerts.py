"""One alert per material per cycle, from the project's policy, with a warning when data is stale."""

from datetime import date

import dagster as dg
import pandas as pd

from nova_assets.defs.critical_path import CRITICAL_PATH_TAGS
from nova_assets.defs.inventory.settings import InventorySettings
from nova_assets.lib.inventory.alerts import evaluate, stale_warning
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
from nova_assets.lib.sources.erp_files import STOCK_MOVEMENT_COLUMNS
from nova_assets.resources import CycleConfig, LakeResource, SourcesResource, lake_deps

FRESHNESS_SOURCES: dict[LakeTable, str] = {
    ERP_MOVEMENTS: "movement_date",
    ERP_STOCK: "snapshot_date",
    WEATHER_DAILY: "date",
    ECONOMICS_SELIC: "date",
    ECONOMICS_USD_BRL: "date",
}


def source_dates(lake: LakeResource) -> dict[str, date]:
    """The latest date in each daily source."""
    return {t.name: pd.to_datetime(lake.read(t, [c])[c]).max().date() for t, c in FRESHNESS_SOURCES.items()}


@dg.asset(
    key_prefix="inventory",
    deps=lake_deps(REORDER_POINTS, ERP_MATERIALS, *FRESHNESS_SOURCES),
    kinds={"python"},
    op_tags=CRITICAL_PATH_TAGS,
)
def alerts(
    lake: LakeResource, sources: SourcesResource, cycle: CycleConfig, inventory_settings: InventorySettings
) -> dg.MaterializeResult:
    """Severity (CRÍTICO/ALTO/MÉDIO/OK), message, action and detail in Portuguese for every material.

    The data is stale when a daily source's latest date is more than `stale_after_days` before the
    cycle's as-of date (today in Salvador live, the snapshots' day offline, or NOVA_AS_OF_DATE);
    every message then carries the warning.
    """
    points = lake.read(REORDER_POINTS)
    points = points[points["policy"] == PROJECT_POLICY].set_index("material_id")
    cycle_date = pd.Timestamp(points["cycle_date"].iloc[0]).date()
    dates = source_dates(lake)
    as_of = min(dates.values())
    warning = stale_warning(sources.as_of, as_of, cycle.stale_after_days)
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
            "data_as_of": str(as_of),
            "reference_date": str(sources.as_of),
            "source_dates": {k: str(v) for k, v in dates.items()},
            "stale_data": bool(warning),
            **{f"alerts_{k}": int(v) for k, v in counts.items()},
            "preview": dg.MetadataValue.md(
                table[table["severity"] != "OK"].drop(columns=["stale_warning"]).head(15).to_markdown(index=False)
            ),
        }
    )
