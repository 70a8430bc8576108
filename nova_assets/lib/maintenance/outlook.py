"""What the daily cycle computes from the maintenance tables: the failure model fitted on the whole
work-order history with its rolling-origin calibration, the failure forecast per site, equipment type
and month, and the parts left without installed base (obsolescence risk).

An ERP without plant maintenance exports no such tables: every function then returns empty frames
(with their columns) and says why, so the cycle runs on as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nova_assets.lib.maintenance.clusters import CLUSTER_COLUMNS, failure_clusters
from nova_assets.lib.maintenance.contracts import CORRECTIVE, typed_work_orders
from nova_assets.lib.maintenance.failure_model import (
    MIN_FAILURES,
    FailureModel,
    backtest_failures,
    calibration,
    fit_failure_model,
    forecast_failures,
)
from nova_assets.lib.maintenance.lifecycle import (
    NO_INSTALLED_BASE,
    PHASING_OUT,
    apply_phase_out,
    installed_base_coverage,
    obsolescence_risk,
    phase_out_factor,
    remaining_life_demand,
)
from nova_assets.lib.maintenance.parts_demand import INSTALLED_BASE_MODEL, causal_parts_forecast, where_used

FORECAST_MONTHS = 3  # the failure forecast covers the months after the cycle's day
BACKTEST_ORIGINS = 4  # monthly origins of the calibration backtest, each FORECAST_MONTHS ahead
MIN_HISTORY_DAYS = 365  # a backtest origin needs a year of history before it
# The calibration check passes while the backtest's observed/expected stays in this range and at least
# MIN_COVERAGE of its (origin, month, type) cells fall inside their 90 % interval
CALIBRATION_RATIO = (0.67, 1.5)
MIN_COVERAGE = 0.7
FAILURE_FORECAST_COLUMNS = ["period", "site_id", "equipment_type", "expected", "p5", "p50", "p95"]
SUMMARY_COLUMNS = ["equipment_type", "failures", "unit_years", "shape", "scale_years", "heat", "rain"]
CALIBRATION_COLUMNS = ["equipment_type", "cells", "expected", "observed", "coverage_90", "observed_over_expected"]
RISK_COLUMNS = [
    "material_id",
    "status",
    "last_service_date",
    "on_hand",
    "unit_cost",
    "remaining_demand",
    "excess_units",
    "obsolescence_risk_brl",
]


@dataclass(frozen=True)
class FailureOutlook:
    """The fitted model (None when nothing could be fitted, `reason` says why), its failure forecast
    and the calibration of its backtest (per type, and `all` for the pooled row)."""

    model: FailureModel | None
    forecast: pd.DataFrame
    calibration: pd.DataFrame
    summary: pd.DataFrame
    reason: str | None = None
    notes: list[str] = field(default_factory=list)

    def calibrated(self) -> tuple[bool, str]:
        """Whether the backtest is calibrated (CALIBRATION_RATIO, MIN_COVERAGE) and a sentence saying so."""
        pooled = self.calibration[self.calibration["equipment_type"] == "all"]
        if pooled.empty:
            return True, f"no calibration backtest: {self.reason or 'too little history'}"
        row = pooled.iloc[0]
        ratio, coverage = float(row["observed_over_expected"]), float(row["coverage_90"])
        low, high = CALIBRATION_RATIO
        passed = low <= ratio <= high and coverage >= MIN_COVERAGE
        return passed, (
            f"observed/expected {ratio:.2f} (accepted {low}-{high}), 90 % interval coverage {coverage:.0%} "
            f"(at least {MIN_COVERAGE:.0%}) over {int(row['cells'])} origin x month x type cells"
        )


def history_start(work_orders: pd.DataFrame) -> pd.Timestamp | None:
    """The first day the work-order history covers (its earliest date), None without orders."""
    orders = typed_work_orders(work_orders)
    dates = pd.concat([orders[c] for c in ("created_date", "planned_date", "failure_date", "completion_date")])
    return None if dates.dropna().empty else dates.min()


def backtest_cutoffs(start: pd.Timestamp, as_of: pd.Timestamp) -> list[pd.Timestamp]:
    """Month ends whose FORECAST_MONTHS following months are observed by `as_of` and which have
    MIN_HISTORY_DAYS of history before them: the latest BACKTEST_ORIGINS of them, oldest first."""
    last = (as_of + pd.Timedelta(days=1)).to_period("M").start_time - pd.Timedelta(days=1)  # last full month end
    cutoffs = [(last.to_period("M") - FORECAST_MONTHS - k).end_time.normalize() for k in range(BACKTEST_ORIGINS)]
    return sorted(c for c in cutoffs if (c - start).days >= MIN_HISTORY_DAYS)


def failure_outlook(
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    weather: pd.DataFrame,
    as_of: pd.Timestamp,
    *,
    backtest: bool = True,
) -> FailureOutlook:
    """Fit on the work-order history up to `as_of`, forecast the next FORECAST_MONTHS months per site,
    type and month, and (with `backtest`) backtest the fit at `backtest_cutoffs`, each origin refitted
    on its past."""
    empty = FailureOutlook(
        None,
        pd.DataFrame(columns=FAILURE_FORECAST_COLUMNS),
        pd.DataFrame(columns=CALIBRATION_COLUMNS),
        pd.DataFrame(columns=SUMMARY_COLUMNS),
    )
    start = history_start(work_orders)
    corrective = typed_work_orders(work_orders)
    corrective = corrective[corrective["kind"] == CORRECTIVE]
    if start is None or installed_base.empty or len(corrective) < MIN_FAILURES:
        return _with_reason(empty, f"no maintenance history to fit (fewer than {MIN_FAILURES} failures)")
    try:
        model = fit_failure_model(installed_base, work_orders, weather, start, as_of)
    except ValueError as exc:  # no type with enough failures
        return _with_reason(empty, str(exc))
    end = (as_of.to_period("M") + FORECAST_MONTHS).end_time.normalize()
    forecast = forecast_failures(model, installed_base, as_of + pd.Timedelta(days=1), end)
    cutoffs = backtest_cutoffs(start, as_of) if backtest else []
    notes = [f"{t}: not fitted, {why}" for t, why in model.skipped.items()]
    if cutoffs:
        origins = backtest_failures(installed_base, work_orders, weather, start, cutoffs, FORECAST_MONTHS)
        per_type = calibration(origins)
        pooled = calibration(origins.assign(equipment_type="all"))
        table = pd.concat([per_type, pooled], ignore_index=True)[CALIBRATION_COLUMNS]
    else:
        table = pd.DataFrame(columns=CALIBRATION_COLUMNS)
        notes += [f"no backtest origin has {MIN_HISTORY_DAYS} days of history"] if backtest else []
    return FailureOutlook(model, forecast[FAILURE_FORECAST_COLUMNS], table, model.summary, None, notes)


def obsolescence(
    model: FailureModel | None,
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    work_order_parts: pd.DataFrame,
    materials: pd.DataFrame,
    stock: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """Parts whose installed base is phasing out or gone, with the stock (latest snapshot, all sites)
    beyond what their remaining units will still use (the causal forecast up to each part's last
    service date, forecast with the cycle's fitted `model`): RISK_COLUMNS."""
    if model is None:
        return pd.DataFrame(columns=RISK_COLUMNS)
    used = where_used(installed_base, work_orders, work_order_parts, as_of)
    if used.empty:
        return pd.DataFrame(columns=RISK_COLUMNS)
    base = installed_base.assign(decommission_date=pd.to_datetime(installed_base["decommission_date"]))
    last_decommission = base["decommission_date"].max()
    horizon_end = max(as_of + pd.Timedelta(days=1), last_decommission) if pd.notna(last_decommission) else as_of
    coverage = installed_base_coverage(installed_base, used, as_of, horizon_end)
    at_risk = coverage[coverage["status"].isin([PHASING_OUT, NO_INSTALLED_BASE])]
    if at_risk.empty:
        return pd.DataFrame(columns=RISK_COLUMNS)
    horizon_days = max(int((horizon_end - as_of).days), 1)
    forecast = causal_parts_forecast(model, installed_base, work_orders, work_order_parts, as_of, horizon_days).long
    remaining = remaining_life_demand(forecast, coverage)  # the causal member counts decommissions itself
    latest = stock[pd.to_datetime(stock["snapshot_date"]) == pd.to_datetime(stock["snapshot_date"]).max()]
    risk = obsolescence_risk(latest, materials, coverage, remaining)
    return risk[RISK_COLUMNS]


def phase_out_members(
    forecasts: pd.DataFrame,
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    work_order_parts: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """The members' forecasts (unique_id, ds, model, forecast, ...) with every model but the causal one
    (which counts decommissions itself) scaled by the share of each part's use still in service
    (apply_phase_out): a part without installed base left goes to zero. Unchanged without maintenance."""
    used = where_used(installed_base, work_orders, work_order_parts, as_of)
    if used.empty:
        return forecasts
    statistical = forecasts["model"] != INSTALLED_BASE_MODEL
    adjusted = apply_phase_out(forecasts[statistical], installed_base, used, as_of)
    return pd.concat([adjusted, forecasts[~statistical]], ignore_index=True)


def phase_out_backtests(
    backtests: pd.DataFrame,
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    work_order_parts: pd.DataFrame,
) -> pd.DataFrame:
    """The members' backtest windows (with a cutoff column) scaled as phase_out_members scales the
    forecast, each window with the state at its cutoff: the parts the orders completed by then used,
    the units in service then. So the ensemble learns its weights, and reports errors, on what the
    cycle would have forecast at each origin. Planned decommission dates are taken as known at every
    origin: the installed base does not say when they were decided."""
    if backtests.empty:
        return backtests
    window, cutoffs = pd.factorize(backtests["cutoff"], sort=True)
    statistical = (backtests["model"] != INSTALLED_BASE_MODEL).to_numpy()
    ids, days = backtests["unique_id"].to_numpy(), backtests["ds"].to_numpy()
    factor = np.ones(len(backtests))
    order = []  # the rows as phase_out_members leaves each window: by cutoff, the scaled members first
    for i, cutoff in enumerate(cutoffs):
        rows = np.flatnonzero(window == i)
        used = where_used(installed_base, work_orders, work_order_parts, cutoff)
        if used.empty:
            order.append(rows)
            continue
        scaled = rows[statistical[rows]]
        factor[scaled] = phase_out_factor(ids[scaled], days[scaled], installed_base, used, cutoff)
        order += [scaled, rows[~statistical[rows]]]
    rows = np.concatenate(order)
    out = backtests.take(rows).reset_index(drop=True)
    out["forecast"] = backtests["forecast"].to_numpy(float)[rows] * factor[rows]
    return out


def equipment_clusters(
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    work_order_parts: pd.DataFrame,
    materials: pd.DataFrame,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """The failure clusters per site and equipment type over the whole work-order history (CLUSTER_COLUMNS)."""
    start = history_start(work_orders)
    if start is None or installed_base.empty:
        return pd.DataFrame(columns=CLUSTER_COLUMNS)
    return failure_clusters(installed_base, work_orders, work_order_parts, materials, start, as_of)


def _with_reason(outlook: FailureOutlook, reason: str) -> FailureOutlook:
    return FailureOutlook(outlook.model, outlook.forecast, outlook.calibration, outlook.summary, reason)
