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
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.demand_class import sparse_rows
from nova_assets.lib.inventory.lead_time_demand import (
    NormalLTD,
    block_bootstrap,
    row_mean,
    row_std,
    sample_lead_times,
)
from nova_assets.lib.inventory.policy import reorder_points
from nova_assets.lib.inventory.reorder import BASELINE_POLICY, BASELINE_Z, PROJECT_POLICY, baseline_levels

MIN_ERROR_ORIGINS = 3

OrderQuantity = Callable[[np.ndarray], np.ndarray]  # mean demand per period -> Q per item


def cover_quantity(periods: float = 1.0) -> OrderQuantity:
    """Q = the mean demand of `periods` periods (order-up-to with a review cover)."""
    return lambda mean: mean * periods


class ReviewPolicy(Protocol):
    name: str

    def levels(self, demand: np.ndarray, first: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Reorder point s and order-up-to level S per item, from demand[:, : t + 1] only."""
        ...


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

    Normal items: mean over `window`, sigma from that forecaster's own errors accumulated over the
    risk period at past origins (the in-simulation backtest), plus lead-time variability.
    Intermittent, lumpy and demand-free items: block bootstrap of the last `history_window`
    periods over a sampled lead time. Targets per item (CSL or fill rate).
    """

    lead_time: np.ndarray
    lead_time_std: np.ndarray
    is_fill: np.ndarray
    level: np.ndarray
    window: int
    history_window: int
    order_quantity: OrderQuantity
    review: int = 1
    n_draws: int = 400
    seed: int = 0
    name: str = PROJECT_POLICY

    def levels(self, demand: np.ndarray, first: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
        recent, _ = _trailing(demand, first, t, self.window)
        mean = row_mean(recent)
        risk = self.lead_time + self.review
        sigma_fc = self._forecast_error_sigma(demand, first, t, risk, mean)
        sigma_ltd = np.sqrt(sigma_fc**2 + mean**2 * self.lead_time_std**2)

        history, rel_first = _trailing(demand, first, t, self.history_window)
        empirical_rows = sparse_rows(history)
        rng = np.random.default_rng([self.seed, t])
        lengths = sample_lead_times(self.lead_time, self.lead_time_std, self.n_draws, rng) + self.review
        empirical = block_bootstrap(history, lengths, rng, rel_first)
        q = self.order_quantity(mean)
        s = reorder_points(NormalLTD(mean * risk, sigma_ltd), empirical, empirical_rows, self.is_fill, self.level, q)
        return s, s + q

    def _forecast_error_sigma(
        self, demand: np.ndarray, first: np.ndarray, t: int, risk: np.ndarray, mean: np.ndarray
    ) -> np.ndarray:
        """RMS of (actual - forecast) summed over m = round(risk) periods, at origins u <= t - m
        in the last `history_window` periods, scaled by sqrt(risk / m); falls back to the
        trailing standard deviation * sqrt(risk) with fewer than MIN_ERROR_ORIGINS origins."""
        n, _ = demand.shape
        values = np.nan_to_num(demand[:, : t + 1])
        live = ~np.isnan(demand[:, : t + 1])
        cum = np.concatenate([np.zeros((n, 1)), np.cumsum(values, axis=1)], axis=1)
        cnt = np.concatenate([np.zeros((n, 1)), np.cumsum(live, axis=1)], axis=1)
        m = np.maximum(np.rint(risk).astype(int), 1)
        origins = np.arange(max(t + 1 - self.history_window, 0), t + 1)
        u = np.broadcast_to(origins, (n, origins.size))
        lo = np.maximum(u + 1 - self.window, 0)
        rows = np.arange(n)[:, None]
        seen = cnt[rows, u + 1] - cnt[rows, lo]
        forecast = np.where(seen > 0, (cum[rows, u + 1] - cum[rows, lo]) / np.maximum(seen, 1), np.nan)
        end = u + 1 + m[:, None]
        ok = (end <= t + 1) & (u >= first[:, None] + min(self.window, 3) - 1) & ~np.isnan(forecast)
        end = np.minimum(end, t + 1)
        actual = cum[rows, end] - cum[rows, u + 1]
        err = np.where(ok, actual - m[:, None] * np.nan_to_num(forecast), 0.0)
        used = ok.sum(axis=1)
        rms = np.sqrt(np.sum(err**2, axis=1) / np.maximum(used, 1)) * np.sqrt(risk / m)
        fallback = row_std(_trailing(demand, first, t, self.window)[0]) * np.sqrt(risk)
        return np.where(used >= MIN_ERROR_ORIGINS, rms, fallback)


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
        """Per-item outcome of `policy`: periods, demand, filled, fill_rate, cycles,
        cycles_with_stockout, cycle_service_level, stockout_periods, avg_on_hand,
        avg_inventory_value, orders (over the measured periods)."""
        return self._metrics(self.trace(policy))

    def trace(self, policy: ReviewPolicy) -> dict[str, np.ndarray]:
        """The replay, period by period (n_items, T): net_stock (end of period, negative =
        backorders), served (from stock), unmet, arrived (quantity received at the start),
        ordered (quantity ordered at the end), plus measure_from (n_items,)."""
        demand = self.demand
        n, horizon = demand.shape
        first = self.first
        start = first + self.warmup
        y = np.nan_to_num(demand)
        rng = np.random.default_rng(self.seed)  # lead-time draws: identical for every policy
        draws = sample_lead_times(self.lead_time, self.lead_time_std, horizon, rng)
        pipeline = np.zeros((n, horizon + int(draws.max(initial=0)) + 2))
        net = np.zeros(n)  # on hand - backorders
        on_order = np.zeros(n)
        out = {k: np.zeros((n, horizon)) for k in ("net_stock", "served", "unmet", "arrived", "ordered")}
        out["measure_from"] = start + np.ceil(self.lead_time + 2 * self.lead_time_std).astype(int) + 1
        started = np.zeros(n, dtype=bool)
        last = int(start.min(initial=horizon)) - 1  # the first decision uses data up to here
        if last >= horizon - 1:
            return out
        s, big_s = policy.levels(demand, first, last)
        for t in range(last + 1, horizon):
            active = t >= start
            begin = active & ~started
            net[begin] = np.ceil(big_s[begin])
            started |= begin
            incoming = pipeline[:, t]
            out["arrived"][:, t] = incoming
            net += incoming
            on_order -= incoming
            served = np.minimum(np.maximum(net, 0.0), y[:, t]) * active
            out["served"][:, t] = served
            out["unmet"][:, t] = (y[:, t] - served) * active
            net = net - y[:, t] * active if self.backorders else net - served
            out["net_stock"][:, t] = net
            if t == horizon - 1:
                break
            if t - last >= self.recompute_every:
                s, big_s = policy.levels(demand, first, t)
                last = t
            position = net + on_order
            quantity = np.where(active & (position <= s), np.ceil(np.maximum(big_s - position, 0.0)), 0.0)
            idx = np.flatnonzero(quantity > 0)
            pipeline[idx, t + draws[idx, t] + 1] += quantity[idx]
            on_order += quantity
            out["ordered"][:, t] = quantity
        return out

    def _metrics(self, trace: dict[str, np.ndarray]) -> pd.DataFrame:
        y = np.nan_to_num(self.demand)
        n, horizon = y.shape
        mask = np.arange(horizon)[None, :] >= trace["measure_from"][:, None]
        periods = mask.sum(axis=1)
        stockout = (trace["unmet"] > 1e-9) & mask
        receipt = (trace["arrived"] > 0) & mask
        cycle_id = np.cumsum(receipt, axis=1)
        # a cycle runs from one receipt to the next; the first is open unless a receipt starts it
        first_open = ~receipt[np.arange(n), np.minimum(trace["measure_from"], horizon - 1)] & (periods > 0)
        cycles = receipt.sum(axis=1) + first_open
        short_cycles = np.array([np.unique(cycle_id[i, stockout[i]]).size for i in range(n)])
        total = (y * mask).sum(axis=1)
        filled = (trace["served"] * mask).sum(axis=1)
        on_hand = np.maximum(trace["net_stock"], 0.0)
        avg_on_hand = np.divide((on_hand * mask).sum(axis=1), periods, out=np.zeros(n), where=periods > 0)
        cost = np.ones(n) if self.unit_cost is None else np.asarray(self.unit_cost, float)
        return pd.DataFrame(
            {
                "periods": periods,
                "demand": total,
                "filled": filled,
                "fill_rate": np.divide(filled, total, out=np.full(n, np.nan), where=total > 0),
                "cycles": cycles,
                "cycles_with_stockout": short_cycles,
                "cycle_service_level": np.divide(
                    cycles - short_cycles, cycles, out=np.full(n, np.nan), where=cycles > 0
                ),
                "stockout_periods": stockout.sum(axis=1),
                "avg_on_hand": avg_on_hand,
                "avg_inventory_value": avg_on_hand * cost,
                "orders": ((trace["ordered"] > 0) & mask).sum(axis=1),
            }
        )


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
