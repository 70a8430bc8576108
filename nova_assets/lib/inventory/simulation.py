"""Policy backtest: replay a demand history period by period under a reorder policy.

Timing of one period t: orders due arrive at the start; demand is met from stock on hand (the rest
is backordered or lost); at the end the policy, recomputed from the data up to t only, compares
the inventory position (on hand + on order - backorders) with its reorder point s and orders up to
S. An order placed at the end of t with a sampled lead time of L periods arrives at the end of
t + L (usable from t + L + 1), so a reorder point protects L + 1 periods of demand.

Every item starts `warmup` periods after its first observation, on hand = its first S, nothing
on order; service is measured after a burn-in of one lead time, so the initial stock does not
flatter either policy. A replenishment cycle runs from one receipt to the next; the cycle
service level is the share of cycles without a stockout, the fill rate the share of demand met
from stock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.demand_class import sparse_rows
from nova_assets.lib.inventory.calibration import ServiceCalibration
from nova_assets.lib.inventory.lead_time_demand import (
    CompoundDemand,
    NormalLTD,
    row_mean,
    row_std,
    sample_lead_times,
)
from nova_assets.lib.inventory.policy import ItemLevels
from nova_assets.lib.inventory.reorder import BASELINE_POLICY, BASELINE_Z, PROJECT_POLICY, baseline_levels

MIN_ERROR_ORIGINS = 3
METRIC_TOTALS = (
    "periods",
    "demand",
    "filled",
    "cycles",
    "cycles_with_stockout",
    "stockout_periods",
    "on_hand",
    "orders",
)

OrderQuantity = Callable[[np.ndarray], np.ndarray]  # mean demand per period -> Q per item


def cover_quantity(periods: float = 1.0) -> OrderQuantity:
    """Q = the mean demand of `periods` periods (order-up-to with a review cover)."""
    return lambda mean: mean * periods


class ReviewPolicy(Protocol):
    """A policy gives levels per item, or per replica and item ((R, n) arrays, R = its `replicas`
    attribute: the simulation then runs R copies of every item on the same demand and lead-time
    draws). Optional: `reported` (the leading replicas that `run` reports; default all) and
    `observe(PeriodOutcome)`, called after every period."""

    name: str

    def levels(self, demand: np.ndarray, first: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Reorder point s and order-up-to level S per item, from demand[:, : t + 1] only."""
        ...


@dataclass(frozen=True)
class PeriodOutcome:
    """One period of the replay per row (row = replica * n_items + item), zero outside each row's
    measured periods: demand, served, whether a cycle opened (a receipt, or the first measured
    period) and whether the open cycle had its first stockout. Summed up to t they give the
    backtest's own figures as measured at t."""

    t: int
    demand: np.ndarray
    served: np.ndarray
    cycle_opened: np.ndarray
    went_short: np.ndarray


@dataclass(frozen=True)
class FixedPolicy:
    """Constant levels: what simple textbook cases and the stockpyl cross-check use."""

    reorder_point: np.ndarray
    order_up_to: np.ndarray
    name: str = "fixed"

    def levels(self, demand: np.ndarray, first: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        return self.reorder_point, self.order_up_to


def _trailing(demand: np.ndarray, first: np.ndarray, t: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_items, <= window) slice of each item's last observations up to t, NaN before its first."""
    lo = max(t + 1 - window, 0)
    part = demand[:, lo : t + 1].copy()
    part[np.arange(lo, t + 1)[None, :] < first[:, None]] = np.nan
    return part, np.maximum(first - lo, 0)


@dataclass(frozen=True)
class BaselineSimPolicy:
    """The design's formula on a trailing window: PP = d * L + 1.65 * sigma * sqrt(L); S = PP + Q."""

    lead_time: np.ndarray
    window: int
    order_quantity: OrderQuantity
    name: str = BASELINE_POLICY

    def levels(self, demand: np.ndarray, first: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        part, _ = _trailing(demand, first, t, self.window)
        mean = row_mean(part)
        s = baseline_levels(mean, row_std(part), self.lead_time, z=BASELINE_Z).reorder_point
        return s, s + self.order_quantity(mean)


@dataclass(frozen=True)
class ProjectSimPolicy:
    """The project's policy with a trailing-mean forecaster, as the daily cycle would run it.

    Regular items: mean over `window`, sigma from that forecaster's own errors accumulated over
    the risk period at past origins (the in-simulation backtest), plus lead-time variability.
    Intermittent, lumpy and demand-free items (by their last `history_window` periods): the
    compound model fitted on the whole history up to t, drawn per replenishment cycle over a
    sampled lead time. Nominal levels per item (CSL or fill rate); `ItemLevels.at` gives s and S.
    """

    lead_time: np.ndarray
    lead_time_std: np.ndarray
    is_fill: np.ndarray
    level: np.ndarray
    window: int
    history_window: int
    order_quantity: OrderQuantity
    uniform: np.ndarray
    review: int = 1
    n_draws: int = 400
    seed: int = 0
    name: str = PROJECT_POLICY
    _errors: list = field(default_factory=list, init=False, repr=False, compare=False)  # [demand, ForecastErrors]

    def levels(self, demand: np.ndarray, first: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        return self.item_levels(demand, first, t).at(self.level)

    def item_levels(self, demand: np.ndarray, first: np.ndarray, t: int) -> ItemLevels:
        recent, _ = _trailing(demand, first, t, self.window)
        mean = row_mean(recent)
        risk = self.lead_time + self.review
        sigma_fc, dof = self._forecast_errors(demand, first, risk).sigma(t, self.history_window, risk, recent)
        sigma_ltd = np.sqrt(sigma_fc**2 + mean**2 * self.lead_time_std**2)
        sparse = sparse_rows(_trailing(demand, first, t, self.history_window)[0])
        idx = np.flatnonzero(sparse)
        q = self.order_quantity(mean)
        rng = np.random.default_rng([self.seed, t])
        whole = demand[idx, : t + 1]  # NaN before each item's first observation, as `first` reads it
        lead = sample_lead_times(self.lead_time[idx], self.lead_time_std[idx], self.n_draws, rng) + self.review - 1
        cycle = CompoundDemand.fit(whole).cycle_draws(lead, q[idx], rng)
        return ItemLevels(NormalLTD(mean * risk, sigma_ltd, dof), cycle, sparse, self.is_fill, q, self.uniform)

    def _forecast_errors(self, demand: np.ndarray, first: np.ndarray, risk: np.ndarray) -> ForecastErrors:
        """The forecaster's errors at every origin of `demand`: computed at a replay's first
        decision and kept for the next ones, which pass the same unchanged matrix."""
        if not self._errors or self._errors[0] is not demand:
            self._errors[:] = [demand, ForecastErrors.at_origins(demand, first, self.window, risk)]
        return self._errors[1]


@dataclass(frozen=True)
class ForecastErrors:
    """A trailing-mean forecaster's errors summed over the m = round(risk) periods after an
    origin u, for every origin of a history at once: the forecast at u and the m periods after it
    are the same for every decision that looks back at u; only whether u + m is in that decision's
    past changes. `squared` is 0 where an origin cannot be scored (no observation in the
    forecast's window, the forecaster's first periods, u + m beyond the history)."""

    squared: np.ndarray  # (n_items, T)
    scored: np.ndarray  # (n_items, T)
    span: np.ndarray  # m per item

    @classmethod
    def at_origins(cls, demand: np.ndarray, first: np.ndarray, window: int, risk: np.ndarray) -> ForecastErrors:
        n, horizon = demand.shape
        cum = np.concatenate([np.zeros((n, 1)), np.cumsum(np.nan_to_num(demand), axis=1)], axis=1)
        cnt = np.concatenate([np.zeros((n, 1)), np.cumsum(~np.isnan(demand), axis=1)], axis=1)
        m = np.maximum(np.rint(risk).astype(int), 1)
        u = np.arange(horizon)
        lo = np.maximum(u + 1 - window, 0)
        seen = cnt[:, u + 1] - cnt[:, lo]
        forecast = np.where(seen > 0, (cum[:, u + 1] - cum[:, lo]) / np.maximum(seen, 1), np.nan)
        end = u + 1 + m[:, None]
        scored = (end <= horizon) & (u >= first[:, None] + min(window, 3) - 1) & ~np.isnan(forecast)
        actual = np.take_along_axis(cum, np.minimum(end, horizon), axis=1) - cum[:, u + 1]
        err = np.where(scored, actual - m[:, None] * np.nan_to_num(forecast), 0.0)
        return cls(err**2, scored, m)

    def sigma(self, t: int, history_window: int, risk: np.ndarray, recent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """At decision t: RMS of the errors at origins u <= t - m in the last `history_window`
        periods, scaled by sqrt(risk / m); with fewer than MIN_ERROR_ORIGINS origins, the standard
        deviation of the `recent` (trailing) observations * sqrt(risk). Also the degrees of freedom
        behind each (origins used, or observations - 1)."""
        lo = max(t + 1 - history_window, 0)
        ok = self.scored[:, lo : t + 1] & (np.arange(lo, t + 1) + self.span[:, None] <= t)
        used = ok.sum(axis=1)
        squared = np.where(ok, self.squared[:, lo : t + 1], 0.0)
        rms = np.sqrt(np.sum(squared, axis=1) / np.maximum(used, 1)) * np.sqrt(risk / self.span)
        fallback = row_std(recent) * np.sqrt(risk)
        enough = used >= MIN_ERROR_ORIGINS
        dof = np.where(enough, used, np.sum(~np.isnan(recent), axis=1) - 1).astype(float)
        return np.where(enough, rms, fallback), dof


@dataclass
class CalibratedPolicy:
    """The project's policy at calibrated nominal levels, with its shadow replicas.

    Replicas 0..R-1 run each item at its targets (`targets` rows, e.g. its own target and the
    points of a service curve) at the nominal levels that `calibration` maps them to from the
    shadows' service so far; the shadow replicas run the calibration grid, start as the reported
    ones do (a sparse item's position stays at the S it started with until its next demand, so an
    earlier start is another regime) and are recorded into `calibration` period by period.
    Without `calibration` the targets are the nominal levels.
    """

    base: ProjectSimPolicy
    targets: np.ndarray  # (R, n_items)
    calibration: ServiceCalibration | None = field(default_factory=ServiceCalibration)
    name: str = PROJECT_POLICY
    method: np.ndarray | None = None  # each item's method at the latest decision

    @property
    def reported(self) -> int:
        return self.targets.shape[0]

    @property
    def replicas(self) -> int:
        return self.reported + (0 if self.calibration is None else self.calibration.grid.size)

    def levels(self, demand: np.ndarray, first: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        levels = self.base.item_levels(demand, first, t)
        if self.calibration is None:
            return levels.at(self.targets)
        self.method = levels.method
        nominal = self.calibration.nominal(self.targets, levels.method, self.base.is_fill)
        shadows = np.repeat(self.calibration.grid[:, None], demand.shape[0], axis=1)
        return levels.at(np.vstack([nominal, shadows]))

    def observe(self, outcome: PeriodOutcome) -> None:
        if self.calibration is None:
            return
        n = self.targets.shape[1]
        k = self.calibration.grid.size
        names = ("cycle_opened", "went_short", "demand", "served")
        shadows = (getattr(outcome, name)[self.reported * n :].reshape(k, n) for name in names)
        self.calibration.record(self.method, self.base.is_fill, *shadows)


@dataclass(frozen=True)
class Simulation:
    """The replay setup shared by every policy compared (same demand, same lead-time draws)."""

    demand: np.ndarray  # (n_items, T); NaN before an item's first observation
    lead_time: np.ndarray  # mean, periods
    lead_time_std: np.ndarray
    warmup: int
    unit_cost: np.ndarray | None = None
    backorders: bool = True
    recompute_every: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.warmup < 1 or self.recompute_every < 1:
            raise ValueError("warmup and recompute_every must be at least one period")

    @property
    def first(self) -> np.ndarray:
        seen = ~np.isnan(self.demand)
        return np.where(seen.any(axis=1), np.argmax(seen, axis=1), self.demand.shape[1])

    def run(self, policy: ReviewPolicy) -> pd.DataFrame:
        """Per-item outcome of `policy` (its reported replicas, with a `replica` column when there
        are several): periods, demand, filled, fill_rate, cycles, cycles_with_stockout,
        cycle_service_level, stockout_periods, avg_on_hand, avg_inventory_value, orders (over the
        measured periods)."""
        return self._replay(policy, record=False)[1]

    def trace(self, policy: ReviewPolicy) -> dict[str, np.ndarray]:
        """The replay, period by period (rows, T): net_stock (end of period, negative =
        backorders), served (from stock), unmet, arrived (quantity received at the start),
        ordered (quantity ordered at the end), plus measure_from (rows,)."""
        return self._replay(policy, record=True)[0]

    def _replay(self, policy: ReviewPolicy, record: bool) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
        demand = self.demand
        n, horizon = demand.shape
        first = self.first
        y = np.nan_to_num(demand)
        rng = np.random.default_rng(self.seed)  # lead-time draws: identical for every policy
        draws = sample_lead_times(self.lead_time, self.lead_time_std, horizon, rng)
        replicas = getattr(policy, "replicas", 1)
        rows = replicas * n
        start = np.tile(first + self.warmup, replicas)
        burn = np.ceil(self.lead_time + 2 * self.lead_time_std).astype(int) + 1
        measure_from = start + np.tile(burn, replicas)
        ring = int(draws.max(initial=0)) + 2  # orders in transit, by arrival period modulo `ring`
        pipeline = np.zeros((rows, ring))
        net = np.zeros(rows)  # on hand - backorders
        on_order = np.zeros(rows)
        started = np.zeros(rows, dtype=bool)
        cycle_open = np.zeros(rows, dtype=bool)
        cycle_short = np.zeros(rows, dtype=bool)
        totals = {k: np.zeros(rows) for k in METRIC_TOTALS}
        out = {k: np.zeros((rows, horizon)) for k in ("net_stock", "served", "unmet", "arrived", "ordered")}
        out["measure_from"] = measure_from
        last = int(start.min(initial=horizon)) - 1  # the first decision uses data up to here
        if last < horizon - 1:
            s, big_s = (np.reshape(level, rows) for level in policy.levels(demand, first, last))
        observe = getattr(policy, "observe", None)
        for t in range(last + 1, horizon):
            active = t >= start
            begin = active & ~started
            net[begin] = np.ceil(big_s[begin])
            started |= begin
            incoming = pipeline[:, t % ring].copy()
            pipeline[:, t % ring] = 0.0
            net += incoming
            on_order -= incoming
            y_t = np.tile(y[:, t], replicas) * active
            served = np.minimum(np.maximum(net, 0.0), y_t)
            unmet = y_t - served
            net = net - y_t if self.backorders else net - served
            measured = t >= measure_from
            stockout = measured & (unmet > 1e-9)
            opened = measured & ((incoming > 0) | ~cycle_open)  # a receipt opens a cycle, and so does the start
            cycle_short[opened] = False
            cycle_open |= opened
            went_short = stockout & ~cycle_short
            cycle_short |= stockout
            totals["cycles"] += opened
            totals["cycles_with_stockout"] += went_short
            totals["periods"] += measured
            totals["demand"] += y_t * measured
            totals["filled"] += served * measured
            totals["stockout_periods"] += stockout
            totals["on_hand"] += np.maximum(net, 0.0) * measured
            if record:
                for key, value in (("net_stock", net), ("served", served), ("unmet", unmet), ("arrived", incoming)):
                    out[key][:, t] = value
            if observe is not None:
                observe(PeriodOutcome(t, y_t * measured, served * measured, opened, went_short))
            if t == horizon - 1:
                break
            if t - last >= self.recompute_every:
                s, big_s = (np.reshape(level, rows) for level in policy.levels(demand, first, t))
                last = t
            position = net + on_order
            quantity = np.where(active & (position <= s), np.ceil(np.maximum(big_s - position, 0.0)), 0.0)
            idx = np.flatnonzero(quantity > 0)
            pipeline[idx, (t + np.tile(draws[:, t], replicas)[idx] + 1) % ring] += quantity[idx]
            on_order += quantity
            totals["orders"] += measured & (quantity > 0)
            if record:
                out["ordered"][:, t] = quantity
        reported = getattr(policy, "reported", replicas) * n
        return out, self._metrics({k: v[:reported] for k, v in totals.items()}, n)

    def _metrics(self, totals: dict[str, np.ndarray], n: int) -> pd.DataFrame:
        periods, total, filled, cycles = (totals[k] for k in ("periods", "demand", "filled", "cycles"))
        short = totals["cycles_with_stockout"]
        rows = periods.size
        avg_on_hand = np.divide(totals["on_hand"], periods, out=np.zeros(rows), where=periods > 0)
        cost = np.ones(n) if self.unit_cost is None else np.asarray(self.unit_cost, float)
        frame = pd.DataFrame(
            {
                "periods": periods.astype(int),
                "demand": total,
                "filled": filled,
                "fill_rate": np.divide(filled, total, out=np.full(rows, np.nan), where=total > 0),
                "cycles": cycles.astype(int),
                "cycles_with_stockout": short.astype(int),
                "cycle_service_level": np.divide(cycles - short, cycles, out=np.full(rows, np.nan), where=cycles > 0),
                "stockout_periods": totals["stockout_periods"].astype(int),
                "avg_on_hand": avg_on_hand,
                "avg_inventory_value": avg_on_hand * np.tile(cost, rows // n),
                "orders": totals["orders"].astype(int),
            }
        )
        if rows > n:
            frame.insert(0, "replica", np.repeat(np.arange(rows // n), n))
        return frame


def summarise(per_item: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Pooled figures per group: fill rate over all demand, CSL over all cycles, totals of the rest."""
    grouped = per_item.groupby(by, sort=False)
    out = grouped.agg(
        items=("demand", "size"),
        demand=("demand", "sum"),
        filled=("filled", "sum"),
        cycles=("cycles", "sum"),
        cycles_with_stockout=("cycles_with_stockout", "sum"),
        stockout_periods=("stockout_periods", "sum"),
        periods=("periods", "sum"),
        avg_on_hand=("avg_on_hand", "sum"),
        avg_inventory_value=("avg_inventory_value", "sum"),
        orders=("orders", "sum"),
    ).reset_index()
    out["fill_rate"] = out["filled"] / out["demand"].where(out["demand"] > 0)
    out["cycle_service_level"] = 1 - out["cycles_with_stockout"] / out["cycles"].where(out["cycles"] > 0)
    out["stockout_period_share"] = out["stockout_periods"] / out["periods"].where(out["periods"] > 0)
    return out


def achieved(row: pd.Series | dict, measure: str) -> float:
    """The achieved figure for a target measure ('csl' or 'fill_rate')."""
    return float(row["cycle_service_level"] if measure == "csl" else row["fill_rate"])


def within(value: float, target: float, tolerance: float = 0.02) -> bool:
    return not math.isnan(value) and abs(value - target) <= tolerance + 1e-12
