"""The policy backtest on the cycle's own demand history (loaded into gold by defs/gold/base/policy_backtest.py).

It replays the history up to the cycle's backtest day (NOVA_BACKTEST_EVERY_DAYS, the forecast's
calendar): the cycles between two backtest days keep its tables, as the forecast families keep their
backtests, unless the inventory settings or the SELIC rate changed."""

from datetime import date

import dagster as dg
import pandas as pd

from nova_assets.defs.critical_path import LONG_CRITICAL_STEP_TAGS
from nova_assets.defs.history import load_history
from nova_assets.defs.inventory.settings import InventorySettings
from nova_assets.lib.demand_history import backtest_through
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
    POLICY_BACKTEST_STATE,
    POLICY_CALIBRATION,
    POLICY_SERVICE_CURVE,
)
from nova_assets.resources import CycleConfig, LakeResource, lake_deps


@dg.asset(
    key_prefix="inventory",
    deps=lake_deps(DAILY_DEMAND, ERP_MATERIALS, ERP_SUPPLIERS, HOLIDAYS, ECONOMICS_SELIC),
    kinds={"python"},
    op_tags=LONG_CRITICAL_STEP_TAGS,  # the reorder points read its calibration
)
def policy_backtest(
    lake: LakeResource, inventory_settings: InventorySettings, cycle: CycleConfig
) -> dg.MaterializeResult:
    """Replay the daily history under the project's policy and the design's baseline: daily review,
    weekly re-estimation from past data only, supplier lead times sampled per order, each
    material's service target by criticality, EOQ order quantities. Also writes the project's
    service-stock curve and the calibration (shadow replicas' service per nominal level) that
    the reorder points read."""
    history = load_history(lake)
    through = backtest_through(last_day(history["ds"]), cycle.backtest_every_days)
    selic = float(lake.read(ECONOMICS_SELIC).sort_values("date")["value"].iloc[-1])
    key = _replay_key(through, selic, inventory_settings)
    if _kept(lake, key):
        return dg.MaterializeResult(metadata={**_summary_metadata(lake.read(POLICY_BACKTEST)), "backtest_reused": True})
    history = history[history["ds"] <= pd.Timestamp(through)]
    cycle_date = last_day(history["ds"])
    simulation, result = daily_backtest(
        history,
        lake.read(ERP_MATERIALS).merge(lake.read(ERP_SUPPLIERS), on="supplier_id"),
        lake.read(HOLIDAYS),
        selic,
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
    lake.write_json(POLICY_BACKTEST_STATE, key)
    meets = where_baseline_meets(result)
    return dg.MaterializeResult(
        metadata={
            **_summary_metadata(summary),
            "backtest_reused": False,
            "periods": int(simulation.demand.shape[1]),
            "warmup_days": simulation.warmup,
            "lost_sales": inventory_settings.lost_sales,
            "service_stock_curve": dg.MetadataValue.md(format_table(result.curve)),
            "where_baseline_meets_target": dg.MetadataValue.md(
                meets[["policy", "items", "fill_rate", "cycle_service_level", "avg_inventory_value"]].to_markdown(
                    index=False
                )
            ),
        }
    )


_REPLAY_TABLES = (POLICY_BACKTEST, POLICY_BACKTEST_ITEMS, POLICY_SERVICE_CURVE, POLICY_CALIBRATION)


def _replay_key(through: date, selic: float, settings: InventorySettings) -> dict:
    """What a stored replay must have been made with to be kept (JSON-ready)."""
    return {
        "through": str(through),
        "selic": selic,
        "policy": repr(settings.policy),
        "holding_cost_rate": settings.holding_cost_rate,
        "business_days": settings.business_days,
        "lost_sales": settings.lost_sales,
    }


def _kept(lake: LakeResource, key: dict) -> bool:
    """Whether the lake holds a replay made with `key`."""
    stored = lake.read_json(POLICY_BACKTEST_STATE) if lake.exists(POLICY_BACKTEST_STATE) else None
    return stored == key and all(lake.exists(table) for table in _REPLAY_TABLES)


def _summary_metadata(summary: pd.DataFrame) -> dict:
    """The replay's day, comparison and goals, from its summary table (POLICY_BACKTEST)."""
    table = summary.drop(columns=["freq", "cycle_date"])
    return {
        "cycle_date": str(pd.Timestamp(summary["cycle_date"].iloc[0]).date()),
        "comparison": dg.MetadataValue.md(format_table(table)),
        "goal_by_segment": dg.MetadataValue.md(goal_check(table).round(3).to_markdown(index=False)),
    }
