"""Run the policy backtest for both policies and lay out the comparison table.

Shared by the `nova policy-backtest` command and the daily cycle's policy_backtest asset, so the
two always report the same figures in the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nova_assets.lib.demand_history import cycle_date
from nova_assets.lib.forecasting.panel import PERIODS_PER_YEAR
from nova_assets.lib.inventory.calibration import ServiceCalibration
from nova_assets.lib.inventory.choices import CURVE_TARGETS, Measure, ServiceTarget
from nova_assets.lib.inventory.daily import calendar_lead_times, non_working_days
from nova_assets.lib.inventory.demand_table import DemandMatrix, to_matrix
from nova_assets.lib.inventory.lead_time_demand import uniform_per_item
from nova_assets.lib.inventory.policy import PolicySettings, order_quantities
from nova_assets.lib.inventory.reorder import BASELINE_POLICY, PROJECT_POLICY, carrying_rate
from nova_assets.lib.inventory.simulation import (
    BaselineSimPolicy,
    CalibratedPolicy,
    OrderQuantity,
    ProjectSimPolicy,
    Simulation,
    achieved,
    cover_quantity,
    summarise,
    within,
)
from nova_assets.lib.long_table import InputError

# Trailing windows per frequency: the forecaster's (mean, error origins) and the demand class's.
FORECAST_WINDOW = {"D": 91, "W": 26, "M": 12}
HISTORY_WINDOW = {"D": 365, "W": 104, "M": 24}
CURVE_COLUMNS = [
    "service_measure",
    "service_target",
    "items",
    "cycle_service_level",
    "fill_rate",
    "avg_on_hand",
    "avg_inventory_value",
    "value_per_point",
]
SUMMARY_COLUMNS = [
    "policy",
    "segment",
    "items",
    "service_measure",
    "service_target",
    "fill_rate",
    "cycle_service_level",
    "stockout_periods",
    "stockout_period_share",
    "avg_on_hand",
    "avg_inventory_value",
    "orders",
]


RECOMPUTE_EVERY_DAYS = 7  # the daily cycle's policy is re-estimated weekly; the position is reviewed daily
MAX_WARMUP_DAYS = 365


@dataclass(frozen=True)
class BacktestResult:
    per_item: pd.DataFrame  # one row per item and policy, with its segment and target
    summary: pd.DataFrame  # SUMMARY_COLUMNS, segment 'all' first
    curve: pd.DataFrame  # CURVE_COLUMNS: the project's policy at each curve target (empty without)
    calibration: pd.DataFrame  # the shadow replicas' outcomes (calibration.FRAME_COLUMNS; empty without)


def run_backtest(
    simulation: Simulation,
    freq: str,
    measure: np.ndarray,
    level: np.ndarray,
    order_quantity: OrderQuantity,
    segments: np.ndarray | None = None,
    item_ids: pd.Index | None = None,
    *,
    curve_targets: Sequence[float] = (),
    calibrate: bool = True,
) -> BacktestResult:
    """Replay both policies on the same demand and lead-time draws; pooled figures overall and
    per segment (e.g. criticality class). The project's policy runs at calibrated nominal levels
    (`calibrate`: shadow replicas at the calibration grid), and once more per `curve_targets`
    level (every item at that target of its own measure) for the service-stock curve."""
    n = simulation.demand.shape[0]
    ids = item_ids if item_ids is not None else pd.RangeIndex(n)
    is_fill = np.asarray(measure) == Measure.FILL_RATE.value
    level = np.asarray(level, float)
    base = ProjectSimPolicy(
        lead_time=simulation.lead_time,
        lead_time_std=simulation.lead_time_std,
        is_fill=is_fill,
        level=level,
        window=FORECAST_WINDOW[freq],
        history_window=HISTORY_WINDOW[freq],
        order_quantity=order_quantity,
        uniform=uniform_per_item(ids, simulation.seed),
        seed=simulation.seed,
    )
    project = CalibratedPolicy(
        base,
        np.vstack([level, *(np.full(n, target) for target in curve_targets)]),
        calibration=ServiceCalibration() if calibrate else None,
    )
    baseline = BaselineSimPolicy(
        lead_time=simulation.lead_time, window=FORECAST_WINDOW[freq], order_quantity=order_quantity
    )
    frames = []
    for policy in (project, baseline):
        outcome = simulation.run(policy)
        if "replica" not in outcome:
            outcome.insert(0, "replica", 0)
        outcome.insert(0, "policy", policy.name)
        outcome.insert(2, "item", np.tile(np.asarray(ids), len(outcome) // n))
        outcome["segment"] = np.tile(segments, len(outcome) // n) if segments is not None else "all"
        outcome["service_measure"] = np.tile(measure, len(outcome) // n)
        outcome["service_target"] = project.targets.ravel()[: len(outcome)]
        frames.append(outcome)
    both = pd.concat(frames, ignore_index=True)
    replica = both.pop("replica")
    per_item = both[replica == 0].reset_index(drop=True)
    curve = service_curve(both[replica > 0])
    measured = per_item[per_item["periods"] > 0]
    groups = [("all", measured)]
    if segments is not None:
        groups += [(str(seg), frame) for seg, frame in measured.groupby("segment", sort=True)]
    order = {PROJECT_POLICY: 0, BASELINE_POLICY: 1}
    parts = []
    for segment, frame in groups:
        measures, targets = frame["service_measure"].unique(), frame["service_target"].unique()
        part = summarise(frame.assign(segment=segment), ["policy", "segment"]).assign(
            service_measure=measures[0] if len(measures) == 1 else "mixed",
            service_target=float(targets[0]) if len(targets) == 1 else np.nan,
        )
        parts.append(part.sort_values("policy", key=lambda p: p.map(order)))
    calibration = project.calibration.frame() if project.calibration is not None else pd.DataFrame()
    return BacktestResult(per_item, pd.concat(parts, ignore_index=True)[SUMMARY_COLUMNS], curve, calibration)


def service_curve(replicas: pd.DataFrame) -> pd.DataFrame:
    """The project's policy at each curve target (pooled over measured items): service reached,
    stock, and what each point of service costs in stock value against the previous point (per
    point of the reached measure when all items share one, else per point of the target)."""
    measured = replicas[replicas["periods"] > 0]
    if measured.empty:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    pooled = summarise(measured, ["service_target"]).sort_values("service_target", ignore_index=True)
    measures = measured["service_measure"].unique()
    single = {Measure.CSL.value: "cycle_service_level", Measure.FILL_RATE.value: "fill_rate"}
    reached = pooled[single[measures[0]]] if len(measures) == 1 else pooled["service_target"]
    points = 100 * reached.diff()
    pooled["service_measure"] = measures[0] if len(measures) == 1 else "mixed"
    pooled["value_per_point"] = pooled["avg_inventory_value"].diff() / points.where(points > 0)
    return pooled[CURVE_COLUMNS]


def table_backtest(
    matrix: DemandMatrix,
    freq: str,
    target: ServiceTarget,
    lead_time: float,
    lead_time_std: float = 0.0,
    *,
    lost_sales: bool = False,
    warmup: int | None = None,
    recompute_every: int = 1,
    cover_periods: float = 1.0,
    seed: int = 0,
    curve_targets: Sequence[float] = (),
    calibrate: bool = True,
) -> tuple[Simulation, BacktestResult]:
    """`nova policy-backtest` on a demand matrix: one target and lead time for every item, order
    quantity the mean demand of `cover_periods`, warm-up one year (at most half the history).
    InputError when no item has a period to measure (no demand before the end of the history)."""
    n, periods = matrix.values.shape
    simulation = Simulation(
        demand=matrix.values,
        lead_time=np.full(n, lead_time),
        lead_time_std=np.full(n, lead_time_std),
        warmup=warmup or min(int(PERIODS_PER_YEAR[freq]), max(periods // 2, 1)),
        backorders=not lost_sales,
        recompute_every=recompute_every,
        seed=seed,
    )
    result = run_backtest(
        simulation,
        freq,
        np.full(n, target.measure.value),
        np.full(n, target.level),
        cover_quantity(cover_periods),
        item_ids=matrix.items,
        curve_targets=curve_targets,
        calibrate=calibrate,
    )
    if measured_items(result) == 0:
        raise InputError(
            f"no item has a period to measure after the {simulation.warmup}-period warm-up (an item starts at "
            f"its first demand; {n} items, {periods} periods): nothing to replay"
        )
    return simulation, result


def measured_items(result: BacktestResult) -> int:
    """Items with at least one period measured under the project's policy (after the warm-up)."""
    periods = result.per_item.loc[result.per_item["policy"] == PROJECT_POLICY, "periods"]
    return int((periods > 0).sum())


def daily_backtest(
    history: pd.DataFrame,
    materials: pd.DataFrame,
    holidays: pd.DataFrame,
    selic_percent: float,
    settings: PolicySettings,
    holding_premium: float,
    business_days: bool,
    lost_sales: bool,
    curve_targets: Sequence[float] = CURVE_TARGETS,
) -> tuple[Simulation, BacktestResult]:
    """The daily cycle's backtest: daily history (unique_id, ds, y), materials joined with their
    suppliers; daily review, weekly re-estimation from past data only, supplier lead times sampled
    per order, each material's target by criticality, EOQ order quantities."""
    matrix = to_matrix(history, "D", "unique_id", "ds", "y", keep_leading_zeros=True)
    materials = materials.set_index("material_id").reindex(matrix.items)
    lead, lead_std = calendar_lead_times(
        materials, cycle_date(history["ds"]), non_working_days(holidays), business_days
    )
    targets = [settings.target(c) for c in materials["criticality"]]
    rate = carrying_rate(selic_percent, holding_premium)
    unit_cost = materials["unit_cost"].to_numpy(float)
    simulation = Simulation(
        demand=matrix.values,
        lead_time=lead,
        lead_time_std=lead_std,
        warmup=min(MAX_WARMUP_DAYS, matrix.values.shape[1] // 2),
        unit_cost=unit_cost,
        backorders=not lost_sales,
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
        curve_targets=curve_targets,
    )
    return simulation, result


def where_baseline_meets(result: BacktestResult, tolerance: float = 0.0) -> pd.DataFrame:
    """Both policies on the items whose own baseline outcome meets their target (a per-item, and
    therefore noisy, selection): the 'no more inventory where the baseline meets it' check."""
    items = result.per_item
    achieved = np.where(items["service_measure"] == "csl", items["cycle_service_level"], items["fill_rate"])
    base = items[(items["policy"] == BASELINE_POLICY) & (achieved >= items["service_target"] - tolerance)]
    chosen = items[items["item"].isin(base["item"]) & (items["periods"] > 0)]
    return summarise(chosen.assign(segment="baseline meets target"), ["policy", "segment"])


def goal_check(summary: pd.DataFrame, tolerance: float = 0.02) -> pd.DataFrame:
    """Per segment with a single target: is the project's policy within `tolerance` of it, does the
    baseline meet it, and, where it does, does the project hold no more inventory value?"""
    rows = []
    for segment, part in summary.groupby("segment", sort=False):
        measure, target = part["service_measure"].iloc[0], part["service_target"].iloc[0]
        if measure not in {m.value for m in Measure} or pd.isna(target):
            continue
        by = part.set_index("policy")
        project = achieved(by.loc[PROJECT_POLICY], measure)
        baseline = achieved(by.loc[BASELINE_POLICY], measure)
        meets = not pd.isna(baseline) and baseline >= target
        value = by.loc[PROJECT_POLICY, "avg_inventory_value"] / by.loc[BASELINE_POLICY, "avg_inventory_value"] - 1
        rows.append(
            {
                "segment": segment,
                "target": f"{measure} {target:.0%}",
                "project": project,
                "within_tolerance": within(project, target, tolerance),
                "baseline": baseline,
                "baseline_meets": meets,
                "inventory_vs_baseline": value,
                "goal_met": within(project, target, tolerance) and (not meets or value <= 0),
            }
        )
    return pd.DataFrame(rows)


def format_table(summary: pd.DataFrame) -> str:
    """The comparison (or the curve) as a Markdown table (percentages for the service figures)."""
    shown = summary.copy()
    for column in ("fill_rate", "cycle_service_level", "stockout_period_share", "service_target"):
        if column in shown:
            shown[column] = shown[column].map(lambda v: "-" if pd.isna(v) else f"{v:.1%}")
    for column in ("avg_on_hand", "avg_inventory_value", "value_per_point"):
        if column in shown:
            shown[column] = shown[column].map(lambda v: "-" if pd.isna(v) else f"{v:,.0f}")
    return shown.to_markdown(index=False)
