"""The policy backtest on the cycle's own demand history (loaded into gold by defs/gold/base/policy_backtest.py)."""

import dagster as dg

from nova_assets.defs.critical_path import CRITICAL_PATH_TAGS
from nova_assets.defs.history import load_history
from nova_assets.defs.inventory.settings import InventorySettings
from nova_assets.lib.demand_history import cycle_date as last_day
from nova_assets.lib.inventory.backtest_report import daily_backtest, format_table, goal_check, where_baseline_meets
from nova_assets.lib.lake_tables import (
    DAILY_DEMAND,
    ECONOMICS_SELIC,
    ERP_MATERIALS,
    ERP_SUPPLIERS,
    HOLIDAYS,
    POLICY_BACKTEST,
    POLICY_BACKTEST_ITEMS,
    POLICY_CALIBRATION,
    POLICY_SERVICE_CURVE,
)
from nova_assets.resources import LakeResource, lake_deps


@dg.asset(
    key_prefix="inventory",
    deps=lake_deps(DAILY_DEMAND, ERP_MATERIALS, ERP_SUPPLIERS, HOLIDAYS, ECONOMICS_SELIC),
    kinds={"python"},
    op_tags=CRITICAL_PATH_TAGS,  # the reorder points read its calibration
)
def policy_backtest(lake: LakeResource, inventory_settings: InventorySettings) -> dg.MaterializeResult:
    """Replay the daily history under the project's policy and the design's baseline: daily review,
    weekly re-estimation from past data only, supplier lead times sampled per order, each
    material's service target by criticality, EOQ order quantities. Also writes the project's
    service-stock curve and the calibration (shadow replicas' service per nominal level) that
    the reorder points read."""
    history = load_history(lake)
    cycle_date = last_day(history["ds"])
    selic = lake.read(ECONOMICS_SELIC).sort_values("date")["value"].iloc[-1]
    simulation, result = daily_backtest(
        history,
        lake.read(ERP_MATERIALS).merge(lake.read(ERP_SUPPLIERS), on="supplier_id"),
        lake.read(HOLIDAYS),
        float(selic),
        inventory_settings.policy,
        float(inventory_settings.holding_cost_rate),
        inventory_settings.business_days,
        inventory_settings.lost_sales,
    )
    summary = result.summary.assign(freq="D", cycle_date=cycle_date)
    lake.write(POLICY_BACKTEST, summary)
    lake.write(POLICY_BACKTEST_ITEMS, result.per_item.assign(item=lambda f: f["item"].astype(str)))
    lake.write(POLICY_SERVICE_CURVE, result.curve.assign(cycle_date=cycle_date))
    lake.write(POLICY_CALIBRATION, result.calibration.assign(cycle_date=cycle_date))
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
