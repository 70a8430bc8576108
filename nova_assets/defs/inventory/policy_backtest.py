"""The policy backtest on the cycle's own demand history, and its gold table."""

import dagster as dg
import pandas as pd

from nova_assets.defs.forecast.history import DEMAND_ASSET, load_history
from nova_assets.defs.gold.postgres import DATABASE, load_cycle
from nova_assets.defs.inventory.settings import InventorySettings
from nova_assets.lib.inventory.backtest_report import daily_backtest, format_table, goal_check, where_baseline_meets
from nova_assets.resources import LakeResource, PostgresResource


@dg.asset(
    key_prefix="inventory",
    group_name="inventory",
    deps=[
        dg.AssetKey(DEMAND_ASSET),
        dg.AssetKey(["raw", "erp_materials"]),
        dg.AssetKey(["raw", "erp_suppliers"]),
        dg.AssetKey(["raw", "holidays"]),
        dg.AssetKey(["raw", "economics_selic"]),
    ],
    kinds={"python"},
)
def policy_backtest(lake: LakeResource, inventory_settings: InventorySettings) -> dg.MaterializeResult:
    """Replay the daily history under the project's policy and the design's baseline: daily review,
    weekly re-estimation from past data only, supplier lead times sampled per order, each
    material's service target by criticality, EOQ order quantities. Also writes the project's
    service-stock curve and the calibration (shadow replicas' service per nominal level) that
    the reorder points read."""
    history = load_history(lake)
    cycle_date = history["ds"].max().date()
    selic = lake.read("raw", "economics_selic").sort_values("date")["value"].iloc[-1]
    simulation, result = daily_backtest(
        history,
        lake.read("raw", "erp_materials").merge(lake.read("raw", "erp_suppliers"), on="supplier_id"),
        lake.read("raw", "holidays"),
        float(selic),
        inventory_settings.policy,
        float(inventory_settings.holding_cost_rate),
        inventory_settings.business_days,
        inventory_settings.lost_sales,
    )
    summary = result.summary.assign(freq="D", cycle_date=cycle_date)
    lake.write("inventory", "policy_backtest", summary)
    lake.write("inventory", "policy_backtest_items", result.per_item.assign(item=lambda f: f["item"].astype(str)))
    lake.write("inventory", "policy_service_curve", result.curve.assign(cycle_date=cycle_date))
    lake.write("inventory", "policy_calibration", result.calibration.assign(cycle_date=cycle_date))
    meets = where_baseline_meets(result)
    return dg.MaterializeResult(
        metadata={
            "cycle_date": str(cycle_date),
            "periods": int(simulation.demand.shape[1]),
            "warmup_days": simulation.warmup,
            "lost_sales": inventory_settings.lost_sales,
            "comparison": dg.MetadataValue.md(format_table(result.summary)),
            "goal_by_segment": dg.MetadataValue.md(goal_check(result.summary).round(3).to_markdown(index=False)),
            "service_stock_curve": dg.MetadataValue.md(format_table(result.curve)),
            "where_baseline_meets_target": dg.MetadataValue.md(
                meets[["policy", "items", "fill_rate", "cycle_service_level", "avg_inventory_value"]].to_markdown(
                    index=False
                )
            ),
        }
    )


@dg.asset(
    name="policy_backtest",
    key_prefix="gold",
    group_name="gold",
    kinds={"postgres"},
    deps=[policy_backtest, DATABASE],
)
def gold_policy_backtest(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """analytics.policy_backtest: project policy vs baseline, overall and per criticality class."""
    frame = lake.read("inventory", "policy_backtest")
    cycle_date = pd.Timestamp(frame.pop("cycle_date").iloc[0]).date()
    return load_cycle(context, gold, "analytics.policy_backtest", cycle_date, frame)
