"""Reorder points per material: the project's policy and the design's formula, side by side."""

import dagster as dg
import pandas as pd

from nova_assets.defs.critical_path import CRITICAL_PATH_TAGS
from nova_assets.defs.forecast.families import family_keys, read_backtests
from nova_assets.defs.gold.base.postgres import gold_connection
from nova_assets.defs.history import load_history, load_successors
from nova_assets.defs.inventory.settings import InventorySettings
from nova_assets.lib.demand_history import cycle_date as last_day
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.forecasting.models import ZERO_MODEL
from nova_assets.lib.inventory.calibration import ServiceCalibration
from nova_assets.lib.inventory.context import current_conditions
from nova_assets.lib.inventory.daily import DailyInputs, on_successors, reorder_table
from nova_assets.lib.inventory.reorder import PROJECT_POLICY
from nova_assets.lib.lake_tables import (
    ANATEL_5G_MONTHLY,
    DAILY_DEMAND,
    ECONOMICS_SELIC,
    ENSEMBLE_BACKTEST,
    ENSEMBLE_FORECAST,
    ERP_MATERIALS,
    ERP_OPEN_ORDERS,
    ERP_STOCK,
    ERP_SUPPLIERS,
    FORECAST_OVERRIDES,
    HOLIDAYS,
    POLICY_CALIBRATION,
    REORDER_POINTS,
    WEATHER_DAILY,
)
from nova_assets.lib.platform.overrides import active_for_cycle, apply_overrides
from nova_assets.resources import LakeResource, PostgresResource, lake_deps

RAW_INPUTS = (
    ERP_MATERIALS,
    ERP_SUPPLIERS,
    ERP_STOCK,
    ERP_OPEN_ORDERS,
    ECONOMICS_SELIC,
    HOLIDAYS,
    WEATHER_DAILY,
    ANATEL_5G_MONTHLY,
)


def ensemble_backtest(lake: LakeResource) -> tuple[pd.DataFrame, str]:
    """The ensemble's rolling-origin backtest (forecast/ensemble_backtest) and where it came from.

    Until the forecast layer writes that table, the members' backtests are averaged with equal
    weights (the all-zero yardstick left out): an approximation of the ensemble's errors, named as
    such in the asset metadata.
    """
    if lake.exists(ENSEMBLE_BACKTEST):
        return lake.read(ENSEMBLE_BACKTEST), "forecast/ensemble_backtest"
    members = read_backtests(lake)
    members = members[members["model"] != ZERO_MODEL]
    mean = members.groupby(["unique_id", "cutoff", "ds"], as_index=False).agg(
        y=("y", "first"), forecast=("forecast", "mean")
    )
    return mean, "equal-weight mean of the member backtests (forecast/ensemble_backtest not written yet)"


def load_inputs(lake: LakeResource) -> tuple[DailyInputs, str]:
    history = load_history(lake)
    cycle_date = last_day(history["ds"])
    forecast = lake.read(ENSEMBLE_FORECAST)
    raw = {table.name: lake.read(table) for table in RAW_INPUTS}
    selic = raw["economics_selic"].assign(date=lambda f: pd.to_datetime(f["date"]))
    selic = selic[selic["date"] <= pd.Timestamp(cycle_date)].sort_values("date")
    backtest, source = ensemble_backtest(lake)
    calibration = lake.read_if_exists(POLICY_CALIBRATION)
    inputs = DailyInputs(
        cycle_date=cycle_date,
        history=history,
        forecast=forecast[forecast["model"] == ENSEMBLE_MODEL],
        backtest=backtest,
        materials=raw["erp_materials"].merge(raw["erp_suppliers"], on="supplier_id", how="left"),
        stock=raw["erp_stock"],
        open_orders=raw["erp_open_orders"],
        holidays=raw["holidays"],
        selic_percent=float(selic["value"].iloc[-1]),
        conditions=current_conditions(raw["weather_daily"], raw["holidays"], raw["anatel_5g_monthly"], cycle_date),
        calibration=None if calibration is None else ServiceCalibration.from_frame(calibration),
    )
    return on_successors(inputs, load_successors(lake)), source


@dg.asset(
    key_prefix="inventory",
    deps=[*lake_deps(ENSEMBLE_FORECAST, DAILY_DEMAND, POLICY_CALIBRATION, *RAW_INPUTS), *family_keys()],
    kinds={"python"},
    op_tags=CRITICAL_PATH_TAGS,
)
def reorder_points(
    lake: LakeResource, inventory_settings: InventorySettings, gold: PostgresResource
) -> dg.MaterializeResult:
    """Safety stock, reorder point, order-up-to level and suggested order for both policies:
    the project's (service target per criticality at the nominal level the policy backtest
    calibrated, backtest errors, compound demand for lumpy items, EOQ at a SELIC carrying rate) and
    the design's baseline (1.65 * sigma * sqrt(LT) * factors).
    The planners' active overrides (support.overrides) are applied, the computed values kept beside them."""
    inputs, backtest_source = load_inputs(lake)
    with gold_connection(gold) as conn:
        active = active_for_cycle(conn, inputs.cycle_date)
    table, planner = apply_overrides(
        inputs,
        active,
        lambda used: reorder_table(
            used,
            inventory_settings.policy,
            holding_premium=float(inventory_settings.holding_cost_rate),
            business_days=inventory_settings.business_days,
        ),
    )
    table = table.assign(cycle_date=inputs.cycle_date)
    lake.write(REORDER_POINTS, table)
    lake.write(FORECAST_OVERRIDES, planner.assign(cycle_date=inputs.cycle_date))
    project = table[table["policy"] == PROJECT_POLICY]
    by_policy = table.assign(below=table["stock_position"] <= table["reorder_point"]).groupby("policy")
    return dg.MaterializeResult(
        metadata={
            "cycle_date": str(inputs.cycle_date),
            "data": lake.erp_provenance().describe(),  # SYNTHETIC when the ERP tables are the sample's
            "materials": len(project),
            "selic_percent": inputs.selic_percent,
            "backtest_source": backtest_source,
            "calibration": "policy backtest's simulated service"
            if inputs.calibration is not None
            else "none yet (nominal level = target)",
            "planner_overrides_applied": int(active["material_id"].isin(table["material_id"]).sum()),
            "methods": project["method"].value_counts().to_dict(),
            "at_or_below_reorder_point": by_policy["below"].sum().astype(int).to_dict(),
            "safety_stock_value_brl": {
                policy: float((group["safety_stock"].clip(lower=0) * group["unit_cost"]).sum())
                for policy, group in table.merge(
                    inputs.materials[["material_id", "unit_cost"]], on="material_id"
                ).groupby("policy")
            },
            "preview": dg.MetadataValue.md(project.head(10).round(2).to_markdown(index=False)),
        }
    )
