"""The daily reorder table: raw ERP tables + forecast + backtest -> both policies per material.

Plain pandas in, one long frame out (one row per material and policy), so the Dagster asset
only reads and writes. Quantities are per day; lead times in calendar days after the holiday
conversion (see context.calendar_lead_time).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.demand_class import SPARSE, classify
from nova_assets.lib.inventory.calibration import ServiceCalibration
from nova_assets.lib.inventory.context import Conditions, calendar_lead_time, compound, design_factors
from nova_assets.lib.inventory.lead_time_demand import CompoundDemand, forecast_error_sigma, row_std, sample_lead_times
from nova_assets.lib.inventory.policy import PolicySettings, days_until, order_quantities, project_policy
from nova_assets.lib.inventory.reorder import BASELINE_POLICY, PROJECT_POLICY, baseline_levels, carrying_rate
from nova_assets.lib.maintenance.lifecycle import successor_stock, to_successor

HISTORY_DAYS = 365  # demand-class window (the compound model reads the whole history)
SIGMA_WINDOW_DAYS = 90  # the design's "demand std dev from historical data" (baseline, and fallback)
N_DRAWS = 1000
NON_WORKING_SCOPES = {"national", "state", "municipal"}  # "optional" ones only when major (Carnaval)


@dataclass(frozen=True)
class DailyInputs:
    cycle_date: date
    history: pd.DataFrame  # unique_id, ds, y (daily, explicit zeros)
    forecast: pd.DataFrame  # unique_id, ds, forecast (the ensemble)
    backtest: pd.DataFrame  # unique_id, cutoff, ds, y, forecast (the ensemble's backtest)
    materials: pd.DataFrame  # erp_materials joined with erp_suppliers
    stock: pd.DataFrame  # erp_stock
    open_orders: pd.DataFrame  # erp_open_orders
    holidays: pd.DataFrame
    selic_percent: float
    conditions: Conditions = field(default_factory=Conditions)
    calibration: ServiceCalibration | None = None  # fitted on the policy backtest's simulated service


def on_successors(inputs: DailyInputs, successors: Mapping[str, str]) -> DailyInputs:
    """Superseded parts planned as their final successor (`successors`: old -> new): the predecessors
    leave the plan, their stock at the latest snapshot and their open orders count in the successor's
    position, so reorder points, suggested orders and alerts are the successor's and the old stock is
    used before a new part is ordered. The history and forecast are already the successor's (the
    predecessors' demand is carried forward before forecasting)."""
    if not successors:
        return inputs
    snap = pd.to_datetime(inputs.stock["snapshot_date"])
    latest = inputs.stock[snap == snap.max()]
    stock = successor_stock(latest, successors).assign(snapshot_date=snap.max())
    orders = inputs.open_orders.assign(material_id=to_successor(inputs.open_orders["material_id"], successors))
    materials = inputs.materials[~inputs.materials["material_id"].isin(list(successors))]
    return dataclasses.replace(inputs, stock=stock, open_orders=orders, materials=materials)


def non_working_days(holidays: pd.DataFrame) -> frozenset[date]:
    keep = holidays["scope"].isin(NON_WORKING_SCOPES) | holidays["is_major"].astype(bool)
    return frozenset(pd.to_datetime(holidays.loc[keep, "date"]).dt.date)


def stock_position(stock: pd.DataFrame, orders: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """On hand at the latest snapshot (all sites) and every open order, per material."""
    snap = pd.to_datetime(stock["snapshot_date"])
    latest = stock[snap == snap.max()]
    frame = pd.DataFrame(
        {
            "on_hand": latest.groupby("material_id")["on_hand"].sum(),
            "on_order": orders.groupby("material_id")["quantity"].sum(),
        }
    )
    out = frame.reindex(ids).fillna(0.0)
    out["backorders"] = 0.0  # the ERP export carries no backorders; the policy accepts them
    return out


def receipts_by_day(orders: pd.DataFrame, ids: pd.Index, cycle_date: date, horizon: int) -> np.ndarray:
    """Open-order quantities by day after the cycle (day 1 = tomorrow); late orders count as tomorrow."""
    out = np.zeros((len(ids), horizon))
    if orders.empty:
        return out
    day = (pd.to_datetime(orders["expected_date"]) - pd.Timestamp(cycle_date)).dt.days.clip(lower=1, upper=horizon)
    row = pd.Series(np.arange(len(ids)), index=ids).reindex(orders["material_id"]).to_numpy()
    ok = ~np.isnan(row)
    np.add.at(out, (row[ok].astype(int), day.to_numpy()[ok] - 1), orders["quantity"].to_numpy(float)[ok])
    return out


def forecast_paths(forecast: pd.DataFrame, ids: pd.Index) -> np.ndarray:
    wide = forecast.pivot_table(index="unique_id", columns="ds", values="forecast", aggfunc="sum")
    return wide.reindex(ids).fillna(0.0).to_numpy(float)


def recent_demand(history: pd.DataFrame, ids: pd.Index, days: int | None = None) -> np.ndarray:
    """(n_items, days) of the latest daily demand (all of it without `days`); NaN before an item's
    first day."""
    end = history["ds"].max()
    days = days or (end - history["ds"].min()).days + 1
    recent = history[history["ds"] > end - pd.Timedelta(days=days)]
    wide = recent.pivot_table(index="unique_id", columns="ds", values="y", aggfunc="sum")
    wide = wide.reindex(index=ids, columns=pd.date_range(end - pd.Timedelta(days=days - 1), end, freq="D"))
    return wide.to_numpy(float)


def calendar_lead_times(
    materials: pd.DataFrame, cycle_date: date, holidays: frozenset[date], business_days: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the lead time in calendar days; business-day lead times stretch over
    weekends and holidays from the cycle date on (the std stretches by the same ratio)."""
    mean = materials["lead_time_mean_days"].to_numpy(float)
    std = materials["lead_time_std_days"].to_numpy(float)
    if not business_days:
        return mean, std
    cache = {value: calendar_lead_time(cycle_date, value, holidays) for value in np.unique(mean)}
    calendar = np.array([cache[value] for value in mean])
    ratio = np.divide(calendar, mean, out=np.ones_like(mean), where=mean > 0)
    return calendar, std * ratio


def _mean_over(paths: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Mean daily forecast over the first `days` (fractional) days; the path's mean beyond it."""
    n, horizon = paths.shape
    tail = paths.mean(axis=1, keepdims=True) if horizon else np.zeros((n, 1))
    need = int(np.ceil(days.max(initial=0.0))) + 1
    extended = np.concatenate([paths, np.repeat(tail, max(need - horizon, 0), axis=1)], axis=1)
    cum = np.concatenate([np.zeros((n, 1)), np.cumsum(extended, axis=1)], axis=1)
    whole = np.floor(days).astype(int)
    rows = np.arange(n)
    total = cum[rows, whole] + (days - whole) * extended[rows, whole]
    return np.divide(total, days, out=tail[:, 0].copy(), where=days > 0)


def reorder_table(
    inputs: DailyInputs,
    settings: PolicySettings,
    holding_premium: float,
    business_days: bool,
    seed: int = 0,
) -> pd.DataFrame:
    """Both policies for every material: the project's and the design's baseline."""
    materials = inputs.materials.set_index("material_id")
    ids = materials.index
    holidays = non_working_days(inputs.holidays)
    lead, lead_std = calendar_lead_times(materials, inputs.cycle_date, holidays, business_days)
    risk = lead + settings.review_days
    paths = forecast_paths(inputs.forecast, ids)
    mean_daily = _mean_over(paths, risk)

    whole = recent_demand(inputs.history, ids)
    history = whole[:, -HISTORY_DAYS:]
    classes = [classify(row[~np.isnan(row)])[0] for row in history]
    recent = history[:, -SIGMA_WINDOW_DAYS:]
    hist_sigma = row_std(recent)
    fc_sigma = forecast_error_sigma(inputs.backtest, pd.Series(risk, index=ids)).to_numpy()
    sigma_daily = np.where(np.isnan(fc_sigma), hist_sigma, fc_sigma / np.sqrt(np.maximum(risk, 1e-9)))

    rng = np.random.default_rng(seed)
    lead_days = sample_lead_times(lead, lead_std, N_DRAWS, rng)

    position = stock_position(inputs.stock, inputs.open_orders, ids)
    project_factor = compound(design_factors(inputs.conditions, include_holidays=False), settings.context_cap)
    baseline_factor = compound(design_factors(inputs.conditions), settings.context_cap)
    items = pd.DataFrame(
        {
            "criticality": materials["criticality"],
            "unit_cost": materials["unit_cost"].astype(float),
            "mean_daily": mean_daily,
            "sigma_daily": sigma_daily,
            "lead_time_days": lead,
            "lead_time_std_days": lead_std,
            "intermittent": [c in SPARSE for c in classes],
            "context_multiplier": project_factor,
        },
        index=ids,
    ).join(position)
    rate = carrying_rate(inputs.selic_percent, holding_premium)
    project = project_policy(
        items, CompoundDemand.fit(whole), lead_days, settings, rate, rng, calibration=inputs.calibration
    )

    receipts = receipts_by_day(inputs.open_orders, ids, inputs.cycle_date, max(paths.shape[1], 1))
    receipts = receipts[:, : paths.shape[1]]
    on_hand = items["on_hand"].to_numpy(float)
    to_stockout = days_until(np.zeros(len(ids)), on_hand, paths, receipts)
    common = {
        "demand_class": [str(c) for c in classes],
        "stock_on_hand": on_hand,
        "on_order": items["on_order"].to_numpy(float),
        "backorders": items["backorders"].to_numpy(float),
        "stock_position": project["stock_position"].to_numpy(),
        "days_until_stockout": to_stockout,
        "lead_time_std_days": lead_std,
    }
    project_rows = pd.DataFrame(
        {
            "material_id": ids,
            "policy": PROJECT_POLICY,
            "mean_daily_demand": mean_daily,
            "sigma_daily_demand": sigma_daily,
            "lead_time_days": lead,
            **{c: project[c].to_numpy() for c in project.columns if c != "stock_position"},
            "context_multiplier": project_factor if settings.context_multiplier else 1.0,
            "days_until_reorder_point": days_until(
                project["reorder_point"].to_numpy(), project["stock_position"].to_numpy(), paths, np.zeros_like(paths)
            ),
            **common,
        }
    )

    # The design's formula: forecast mean over the horizon, sigma of the last 90 days, supplier
    # lead time as given, z = 1.65 and the design's factors (capped), same order quantity rule.
    base_mean = paths.mean(axis=1) if paths.shape[1] else np.zeros(len(ids))
    supplier_lead = materials["lead_time_mean_days"].to_numpy(float)
    base = baseline_levels(base_mean, hist_sigma, supplier_lead, baseline_factor)
    q = order_quantities(base_mean, items["unit_cost"].to_numpy(float), settings, rate)
    pos = project["stock_position"].to_numpy()
    base_rows = pd.DataFrame(
        {
            "material_id": ids,
            "policy": BASELINE_POLICY,
            "mean_daily_demand": base_mean,
            "sigma_daily_demand": hist_sigma,
            "lead_time_days": supplier_lead,
            "method": "design_formula",
            "service_measure": "csl",
            "service_target": 0.95,
            "risk_period_days": supplier_lead,
            "expected_ltd": base_mean * supplier_lead,
            "sigma_ltd": hist_sigma * np.sqrt(supplier_lead),
            "safety_stock": base.safety_stock,
            "reorder_point": base.reorder_point,
            "order_quantity": q,
            "order_up_to": base.reorder_point + q,
            "suggested_order": np.where(pos <= base.reorder_point, np.ceil(base.reorder_point + q - pos), 0.0),
            "context_multiplier": baseline_factor,
            "days_until_reorder_point": days_until(base.reorder_point, pos, paths, np.zeros_like(paths)),
            **common,
        }
    )
    return pd.concat([project_rows, base_rows], ignore_index=True)


def site_at_risk(
    stock: pd.DataFrame, movements: pd.DataFrame, daily_demand: pd.Series, days: int = SIGMA_WINDOW_DAYS
) -> pd.DataFrame:
    """Per material, the site whose stock lasts least at its share of the recent issues.

    Purchasing buys for the network; the site tells the routing who should hear about it.
    Columns: site_id, site_days_of_cover (inf when no site issues the material).
    """
    snap = pd.to_datetime(stock["snapshot_date"])
    on_hand = stock[snap == snap.max()].groupby(["material_id", "site_id"])["on_hand"].sum()
    moved = movements.assign(movement_date=pd.to_datetime(movements["movement_date"]))
    issues = moved[
        (moved["movement_type"] == "issue")
        & (moved["movement_date"] > moved["movement_date"].max() - pd.Timedelta(days=days))
    ]
    per_site = issues.groupby(["material_id", "site_id"])["quantity"].sum()
    share = per_site / per_site.groupby(level="material_id").transform("sum")
    frame = pd.DataFrame({"share": share, "on_hand": on_hand}).fillna(0.0).reset_index()
    frame["demand"] = frame["share"] * frame["material_id"].map(daily_demand).fillna(0.0)
    frame["cover"] = np.where(
        frame["demand"] > 0, frame["on_hand"] / frame["demand"].where(frame["demand"] > 0), np.inf
    )
    frame = frame[frame["share"] > 0].sort_values(["material_id", "cover"])
    worst = frame.groupby("material_id").head(1).set_index("material_id")
    out = pd.DataFrame({"site_id": worst["site_id"], "site_days_of_cover": worst["cover"]})
    return out.reindex(daily_demand.index).fillna({"site_days_of_cover": np.inf})
