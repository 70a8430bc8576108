"""Stock, recent consumption and stock-out risk per material and site: the input of the SLA,
regional and rebalancing analytics, which the material-level reorder points cannot answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import poisson

from nova_assets.lib.lake import RowFilters

WINDOW_DAYS = 90
SHORT_WINDOW_DAYS = 30

COLUMNS = [
    "material_id",
    "site_id",
    "on_hand",
    "issued_30d",
    "issued_90d",
    "received_90d",
    "demand_days_90d",
    "mean_daily_demand",
    "days_of_cover",
    "resupply_days",
    "stockout_probability",
]


def recent_movements(as_of: pd.Timestamp) -> RowFilters:
    """The movement rows site_inventory uses (those of its last WINDOW_DAYS), as row filters of a lake
    read: a quarter of a history of years."""
    return [("movement_date", ">", (pd.Timestamp(as_of) - pd.Timedelta(days=WINDOW_DAYS)).date())]


def site_inventory(
    movements: pd.DataFrame,
    stock: pd.DataFrame,
    lead_time_days: pd.Series,
    open_orders: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """One row per (material, site) that holds stock or consumed in the last 90 days.

    Stock-out probability: issues arrive as a Poisson stream of events of the observed mean size;
    the site runs out before resupply when more events than its stock covers arrive within the
    resupply time (the supplier lead time, or sooner if an open order is due earlier). Already
    empty with recent demand counts as 1.
    """
    as_of = pd.Timestamp(as_of)
    mv = movements.assign(movement_date=pd.to_datetime(movements["movement_date"]))
    recent = mv[(mv["movement_date"] > as_of - pd.Timedelta(days=WINDOW_DAYS)) & (mv["movement_date"] <= as_of)]
    issues = recent[recent["movement_type"] == "issue"]
    keys = ["material_id", "site_id"]
    daily = issues.groupby([*keys, "movement_date"])["quantity"].sum().reset_index()
    short = daily[daily["movement_date"] > as_of - pd.Timedelta(days=SHORT_WINDOW_DAYS)]
    activity = pd.DataFrame(
        {
            "issued_90d": daily.groupby(keys)["quantity"].sum(),
            "demand_days_90d": daily.groupby(keys).size(),
            "issued_30d": short.groupby(keys)["quantity"].sum(),
            "received_90d": recent[recent["movement_type"] == "receipt"].groupby(keys)["quantity"].sum(),
        }
    )
    snap = stock.assign(snapshot_date=pd.to_datetime(stock["snapshot_date"]))
    snap = snap[snap["snapshot_date"] <= as_of]
    latest = snap[snap["snapshot_date"] == snap["snapshot_date"].max()].groupby(keys)["on_hand"].sum()
    frame = activity.join(latest.rename("on_hand"), how="outer").fillna(0.0).reset_index()
    frame = frame[(frame["on_hand"] > 0) | (frame["issued_90d"] > 0)].copy()
    frame["demand_days_90d"] = frame["demand_days_90d"].astype(int)
    frame["mean_daily_demand"] = frame["issued_90d"] / WINDOW_DAYS
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(frame["mean_daily_demand"] > 0, frame["on_hand"] / frame["mean_daily_demand"], np.nan)
    frame["days_of_cover"] = cover
    frame["resupply_days"] = _resupply_days(frame["material_id"], lead_time_days, open_orders, as_of)
    frame["stockout_probability"] = stockout_probability(
        frame["on_hand"].to_numpy(),
        frame["issued_90d"].to_numpy(),
        frame["demand_days_90d"].to_numpy(),
        frame["resupply_days"].to_numpy(),
    )
    return frame[COLUMNS].sort_values(keys, ignore_index=True)


def stockout_probability(
    on_hand: np.ndarray, issued: np.ndarray, demand_days: np.ndarray, resupply_days: np.ndarray
) -> np.ndarray:
    """P(demand events within the resupply time exceed what the stock covers), compound-Poisson style."""
    on_hand, issued, demand_days = (np.asarray(a, dtype=float) for a in (on_hand, issued, demand_days))
    rate = demand_days / WINDOW_DAYS
    with np.errstate(divide="ignore", invalid="ignore"):
        size = np.where(demand_days > 0, issued / np.maximum(demand_days, 1), 0.0)
        events_covered = np.where(size > 0, np.floor(on_hand / np.where(size > 0, size, 1.0)), np.inf)
    probability = np.where(
        rate > 0, poisson.sf(np.minimum(events_covered, 1e9), rate * np.asarray(resupply_days, dtype=float)), 0.0
    )
    probability = np.where((on_hand <= 0) & (rate > 0), 1.0, probability)
    return np.clip(probability, 0.0, 1.0)


def _resupply_days(
    material_ids: pd.Series, lead_time_days: pd.Series, open_orders: pd.DataFrame, as_of: pd.Timestamp
) -> np.ndarray:
    lead = material_ids.map(lead_time_days).fillna(lead_time_days.median() if len(lead_time_days) else 0.0)
    due = pd.to_datetime(open_orders["expected_date"])
    pending = open_orders.assign(days=(due - as_of).dt.days.clip(lower=0))
    first_due = pending.groupby("material_id")["days"].min()
    soonest = material_ids.map(first_due)
    return np.fmin(lead.to_numpy(dtype=float), soonest.to_numpy(dtype=float))
