"""One alert per material per cycle, with a warning when the data behind it is stale."""

import dagster as dg
import pandas as pd

from nova_assets.lib.inventory.alerts import evaluate
from nova_assets.resources import CycleConfig, LakeResource

FRESHNESS_SOURCES = {
    "erp_movements": "movement_date",
    "weather_daily": "date",
    "economics_selic": "date",
    "economics_usd_brl": "date",
}


def data_as_of(lake: LakeResource) -> pd.Timestamp:
    """The oldest 'latest date' across the daily sources: alerts are only as fresh as that."""
    return min(pd.to_datetime(lake.read("raw", table)[column]).max() for table, column in FRESHNESS_SOURCES.items())


@dg.asset(
    key_prefix="inventory",
    group_name="inventory",
    deps=[dg.AssetKey(["inventory", "reorder_points"])]
    + [dg.AssetKey(["raw", t]) for t in FRESHNESS_SOURCES if t != "erp_movements"],
    kinds={"python"},
)
def alerts(lake: LakeResource, cycle: CycleConfig) -> dg.MaterializeResult:
    """Severity, message and action in Portuguese for every material."""
    points = lake.read("inventory", "reorder_points")
    cycle_date = pd.Timestamp(points["cycle_date"].iloc[0])
    as_of = data_as_of(lake)
    stale = (cycle_date - as_of).days > cycle.stale_after_days
    rows = []
    for item in points.itertuples():
        alert = evaluate(
            item.stock_position, item.reorder_point, item.days_until_stockout, item.lead_time_days, item.order_up_to
        )
        rows.append(
            {
                "material_id": item.material_id,
                "severity": str(alert.severity),
                "message": alert.message,
                "action": alert.action,
                "order_quantity": float(alert.order_quantity),
                "stock_position": item.stock_position,
                "reorder_point": item.reorder_point,
            }
        )
    table = pd.DataFrame(rows).assign(cycle_date=cycle_date.date(), data_as_of=as_of.date(), is_stale=stale)
    lake.write("inventory", "alerts", table)
    counts = table["severity"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={
            "cycle_date": str(cycle_date.date()),
            "data_as_of": str(as_of.date()),
            "stale_data": stale,
            **{f"alerts_{k}": int(v) for k, v in counts.items()},
            "preview": dg.MetadataValue.md(table[table["severity"] != "OK"].head(15).to_markdown(index=False)),
        }
    )
