"""The policy backtest on the cycle's own demand history (loaded into gold by defs/gold/base/policy_backtest.py)."""

import dagster as dg
import numpy as np

from nova_assets.defs.history import load_history
from nova_assets.defs.inventory.settings import InventorySettings
from nova_assets.lib.demand_history import cycle_date as last_day
from nova_assets.lib.inventory.backtest_report import format_table, goal_check, run_backtest, where_baseline_meets
from nova_assets.lib.inventory.daily import calendar_lead_times, non_working_days
from nova_assets.lib.inventory.demand_table import to_matrix
from nova_assets.lib.inventory.policy import order_quantities
from nova_assets.lib.inventory.reorder import carrying_rate
from nova_assets.lib.inventory.simulation import Simulation
from nova_assets.lib.lake_tables import (
    DAILY_DEMAND,
    ECONOMICS_SELIC,
    ERP_MATERIALS,
    ERP_SUPPLIERS,
    HOLIDAYS,
    POLICY_BACKTEST,
    POLICY_BACKTEST_ITEMS,
)
from nova_assets.resources import LakeResource, lake_deps

RECOMPUTE_EVERY_DAYS = 7  # the policy is re-estimated weekly; the position is reviewed daily
MAX_WARMUP_DAYS = 365


@dg.asset(
    key_prefix="inventory",
    deps=lake_deps(DAILY_DEMAND, ERP_MATERIALS, ERP_SUPPLIERS, HOLIDAYS, ECONOMICS_SELIC),
    kinds={"python"},
)
def policy_backtest(lake: LakeResource, inventory_settings: InventorySettings) -> dg.MaterializeResult:
    """Replay the daily history under the project's policy and the design's baseline: daily review,
    weekly re-estimation from past data only, supplier lead times sampled per order, each
    material's service target by criticality, EOQ order quantities."""
    history = load_history(lake)
    cycle_date = last_day(history["ds"])
    matrix = to_matrix(history, "D", "unique_id", "ds", "y", keep_leading_zeros=True)
    materials = lake.read(ERP_MATERIALS).merge(lake.read(ERP_SUPPLIERS), on="supplier_id")
    materials = materials.set_index("material_id").reindex(matrix.items)
    holidays = non_working_days(lake.read(HOLIDAYS))
    lead, lead_std = calendar_lead_times(materials, cycle_date, holidays, inventory_settings.business_days)
    settings = inventory_settings.policy
    targets = [settings.target(c) for c in materials["criticality"]]
    selic = lake.read(ECONOMICS_SELIC).sort_values("date")["value"].iloc[-1]
    rate = carrying_rate(float(selic), float(inventory_settings.holding_cost_rate))
    unit_cost = materials["unit_cost"].to_numpy(float)
    simulation = Simulation(
        demand=matrix.values,
        lead_time=lead,
        lead_time_std=lead_std,
        warmup=min(MAX_WARMUP_DAYS, matrix.values.shape[1] // 2),
        unit_cost=unit_cost,
        backorders=not inventory_settings.lost_sales,
        recompute_every=RECOMPUTE_EVERY_DAYS,
    )
    result = run_backtest(
        simulation,
        "D",
        np.array([t.measure.value for t in targets]),
        np.array([t.level for t in targets]),
        lambda mean: order_quantities(mean, unit_cost, settings, rate),
        segments=materials["criticality"].fillna("?").to_numpy(),
        item_ids=matrix.items,
    )
    summary = result.summary.assign(freq="D", cycle_date=cycle_date)
    lake.write(POLICY_BACKTEST, summary)
    lake.write(POLICY_BACKTEST_ITEMS, result.per_item.assign(item=lambda f: f["item"].astype(str)))
    meets = where_baseline_meets(result)
    return dg.MaterializeResult(
        metadata={
            "cycle_date": str(cycle_date),
            "periods": int(matrix.values.shape[1]),
            "warmup_days": simulation.warmup,
            "lost_sales": inventory_settings.lost_sales,
            "comparison": dg.MetadataValue.md(format_table(result.summary)),
            "goal_by_segment": dg.MetadataValue.md(goal_check(result.summary).round(3).to_markdown(index=False)),
            "where_baseline_meets_target": dg.MetadataValue.md(
                meets[["policy", "items", "fill_rate", "cycle_service_level", "avg_inventory_value"]].to_markdown(
                    index=False
                )
            ),
        }
    )
