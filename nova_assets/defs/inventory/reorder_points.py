"""Reorder points per material from the ensemble forecast, lead times and the stock position."""

import dagster as dg
import pandas as pd

from nova_assets.defs.forecast.history import load_history
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.inventory.reorder import baseline_policy
from nova_assets.resources import LakeResource

SIGMA_WINDOW_DAYS = 90
REVIEW_DAYS = 30
BASELINE_POLICY = "baseline_design"


def _raw(key: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", key])


def stock_position(lake: LakeResource, as_of: pd.Timestamp) -> pd.DataFrame:
    """On hand (latest snapshot, all sites) and open orders due after `as_of`, per material."""
    stock = lake.read("raw", "erp_stock")
    stock["snapshot_date"] = pd.to_datetime(stock["snapshot_date"])
    latest = stock[stock["snapshot_date"] == stock["snapshot_date"].max()]
    on_hand = latest.groupby("material_id")["on_hand"].sum()
    orders = lake.read("raw", "erp_open_orders")
    orders = orders[pd.to_datetime(orders["expected_date"]) > as_of]
    on_order = orders.groupby("material_id")["quantity"].sum()
    return pd.DataFrame({"stock_on_hand": on_hand, "on_order": on_order}).fillna(0.0)


@dg.asset(
    key_prefix="inventory",
    group_name="inventory",
    deps=[
        dg.AssetKey(["forecast", "forecast_ensemble"]),
        _raw("erp_stock"),
        _raw("erp_open_orders"),
        _raw("erp_materials"),
        _raw("erp_suppliers"),
    ],
    kinds={"python"},
)
def reorder_points(lake: LakeResource) -> dg.MaterializeResult:
    """The design's policy (SS = 1.65·σ·√LT, PP = d·LT + SS) on the ensemble forecast."""
    history = load_history(lake)
    as_of = history["ds"].max()
    recent = history[history["ds"] > as_of - pd.Timedelta(days=SIGMA_WINDOW_DAYS)]
    sigma = recent.groupby("unique_id")["y"].std(ddof=1).fillna(0.0)
    forecast = lake.read("forecast", "ensemble")
    mean_daily = forecast[forecast["model"] == ENSEMBLE_MODEL].groupby("unique_id")["forecast"].mean()

    materials = lake.read("raw", "erp_materials").merge(lake.read("raw", "erp_suppliers"), on="supplier_id")
    materials = materials.set_index("material_id").join(stock_position(lake, as_of))
    materials[["stock_on_hand", "on_order"]] = materials[["stock_on_hand", "on_order"]].fillna(0.0)

    rows = []
    for material_id, item in materials.iterrows():
        demand = float(mean_daily.get(material_id, 0.0))
        position = item["stock_on_hand"] + item["on_order"]
        policy = baseline_policy(demand, float(sigma.get(material_id, 0.0)), item["lead_time_mean_days"], position)
        rows.append(
            {
                "material_id": material_id,
                "policy": BASELINE_POLICY,
                "mean_daily_demand": demand,
                "sigma_daily_demand": float(sigma.get(material_id, 0.0)),
                "lead_time_days": item["lead_time_mean_days"],
                "safety_stock": policy.safety_stock,
                "reorder_point": policy.reorder_point,
                "order_up_to": policy.reorder_point + demand * REVIEW_DAYS,
                "stock_on_hand": item["stock_on_hand"],
                "on_order": item["on_order"],
                "stock_position": position,
                "days_until_stockout": policy.days_until_stockout,
                "days_until_reorder_point": policy.days_until_reorder_point,
            }
        )
    table = pd.DataFrame(rows).assign(cycle_date=as_of.date())
    lake.write("inventory", "reorder_points", table)
    below = int((table["stock_position"] <= table["reorder_point"]).sum())
    return dg.MaterializeResult(
        metadata={
            "cycle_date": str(as_of.date()),
            "materials": len(table),
            "at_or_below_reorder_point": below,
            "preview": dg.MetadataValue.md(table.head(10).round(2).to_markdown(index=False)),
        }
    )
