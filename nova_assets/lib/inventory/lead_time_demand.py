"""Demand over the risk period (lead time + review period) as a distribution, batched over items.

Two shapes: normal (mean and sigma_LTD = sqrt(L * sigma_d^2 + d^2 * sigma_L^2), sigma_d from the
backtest's forecast errors) for smooth/erratic items, and a compound occurrence x size model fitted
on the whole history for intermittent and lumpy items, where the normal puts mass on negative
demand and misses the spikes. The compound model is drawn per replenishment cycle: a cycle begins
with the demand that triggers its order, so its risk is conditional on that demand. Both answer
the same two questions: the levels for a cycle service level and for a fill rate.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, fields, replace
from functools import cached_property

import numpy as np
import pandas as pd

from nova_assets.lib.inventory.service import z_cycle_service, z_fill_rate


def row_mean(values: np.ndarray) -> np.ndarray:
    """Mean per row ignoring NaN; 0 for an all-NaN row."""
    count = np.sum(~np.isnan(values), axis=1)
    return np.divide(np.nansum(values, axis=1), count, out=np.zeros(values.shape[0]), where=count > 0)


def row_std(values: np.ndarray) -> np.ndarray:
    """Sample standard deviation per row ignoring NaN; 0 with fewer than two values."""
    count = np.sum(~np.isnan(values), axis=1)
    out = np.zeros(values.shape[0])
    many = count > 1
    out[many] = np.nanstd(values[many], axis=1, ddof=1)
    return out


def sigma_lead_time_demand(
    lead_time: np.ndarray | float,
    sigma_daily: np.ndarray | float,
    mean_daily: np.ndarray | float,
    sigma_lead_time: np.ndarray | float,
) -> np.ndarray:
    """sigma_LTD = sqrt(L * sigma_d^2 + d^2 * sigma_L^2): demand noise over L plus lead-time noise."""
    return np.sqrt(
        np.asarray(lead_time, float) * np.square(sigma_daily) + np.square(mean_daily) * np.square(sigma_lead_time)
    )


@dataclass(frozen=True)
class NormalLTD:
    """Normal lead-time demand per item; with `dof` (the number of errors behind each std), the
    Student t that carries the uncertainty of that estimate."""

    mean: np.ndarray
    std: np.ndarray
    dof: np.ndarray | None = None

    def subset(self, rows: np.ndarray) -> NormalLTD:
        return NormalLTD(self.mean[rows], self.std[rows], None if self.dof is None else self.dof[rows])

    def reorder_point(self, is_fill: np.ndarray, level: np.ndarray, order_quantity: np.ndarray) -> np.ndarray:
        """mean + z * std, z from the quantile (CSL) or the loss function (fill rate)."""
        is_fill = np.broadcast_to(is_fill, self.mean.shape)
        each = lambda v, rows: None if v is None else np.broadcast_to(v, self.mean.shape)[rows]  # noqa: E731
        z = np.empty(self.mean.shape)
        csl = ~is_fill
        if csl.any():
            z[csl] = z_cycle_service(each(level, csl), each(self.dof, csl))
        if is_fill.any():
            z[is_fill] = z_fill_rate(
                each(level, is_fill), each(order_quantity, is_fill), self.std[is_fill], each(self.dof, is_fill)
            )
        return self.mean + z * self.std


def sample_lead_times(mean: np.ndarray, std: np.ndarray, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Whole-period lead times drawn from N(mean, std), rounded, at least 0: (n_items, n_draws)."""
    mean = np.asarray(mean, float)[:, None]
    std = np.asarray(std, float)[:, None]
    if not std.any():
        return np.broadcast_to(np.maximum(np.rint(mean), 0).astype(int), (mean.shape[0], n_draws))
    return np.maximum(np.rint(rng.normal(mean, std, (mean.shape[0], n_draws))), 0).astype(int)


SIZE_PRIOR_WEIGHT = 5.0  # pseudo-observations of the pooled size CV² behind each item's own
OCCURRENCE_PRIOR = 0.5  # Jeffreys prior on the per-period demand probability
RENEWAL_STEPS = 8  # demands walked one by one from S down to s before the renewal limit is used
WALKED_UP_TO = 4.0  # Q in mean sizes up to which the walk is drawn; beyond, the renewal limit
DRAWS_PER_PARAMETER_SET = 16  # draws sharing one posterior draw of occurrence and mean size
FIT_BLOCK_ROWS = 256  # items whose histories CompoundDemand.fit reduces at once (in the CPU cache)
SEARCH_BLOCK_ROWS = 64  # rows of draws expected_excess handles at once (in the CPU cache)


@dataclass(frozen=True)
class CompoundDemand:
    """Demand per period as occurrence x size, per item (rows): whether a period has demand
    (probability p), and how much (gamma).

    Fitted on each item's whole history: occurrence p (share of periods with demand), size mean
    and CV², the CV² shrunk toward the one pooled over items, so an item with three one-unit
    demands still has a size tail. `periods` and `demands` are the evidence behind p and the mean
    size: the draws take their uncertainty along (posterior draws), so a short history gets a
    wider distribution instead of an overconfident one. Sums of sizes stay whole for integer
    histories. (A Markov chain for bursts of demand gave the same service on carparts and AUTO at
    twice the cost; the calibration absorbs what bursts remain.)
    """

    occurrence: np.ndarray
    size_mean: np.ndarray
    size_cv2: np.ndarray
    integer: np.ndarray
    periods: np.ndarray
    demands: np.ndarray

    @classmethod
    def fit(cls, history: np.ndarray) -> CompoundDemand:
        """From (n_items, T) periods, NaN before an item's first observation. A history that opens
        with a demand (the long-table convention: an item starts at its first demand) does not
        count that period as an occurrence; items without any demand get p = 0 and hold nothing."""
        blocks = range(0, max(len(history), 1), FIT_BLOCK_ROWS)
        moments = zip(*(_own_moments(history[lo : lo + FIT_BLOCK_ROWS]) for lo in blocks), strict=True)
        periods, occurrence, demands, mean, cv2, integer = (np.concatenate(column) for column in moments)
        several = demands > 1
        pooled = float(cv2[several].mean()) if several.any() else 1.0
        own = np.maximum(demands - 1, 0)
        cv2 = (own * cv2 + SIZE_PRIOR_WEIGHT * pooled) / (own + SIZE_PRIOR_WEIGHT)
        return cls(occurrence, mean, cv2, integer, periods.astype(float), demands.astype(float))

    @property
    def mean(self) -> np.ndarray:
        """Expected demand per period."""
        return self.occurrence * self.size_mean

    def subset(self, rows: np.ndarray) -> CompoundDemand:
        return CompoundDemand(*(getattr(self, f.name)[rows] for f in fields(self)))

    def rescaled(self, mean: np.ndarray) -> CompoundDemand:
        """Same shape at the level of `mean` (per period, e.g. the forecast's): the occurrence moves
        first (up to every period), the sizes take the rest. An item without demand history gets
        one-unit demands at that rate."""
        mean = np.asarray(mean, float)
        fitted = self.size_mean > 0
        size = np.where(fitted, self.size_mean, 1.0)
        p = np.where(fitted, self.occurrence, np.minimum(mean, 1.0))
        current = p * size
        p = np.minimum(p * np.divide(mean, current, out=np.ones_like(mean), where=current > 0), 1.0)
        size = np.divide(mean, p, out=np.zeros_like(mean), where=p > 0)
        return replace(self, occurrence=np.where(mean > 0, p, 0.0), size_mean=size, integer=self.integer | ~fitted)

    def cycle_draws(
        self, lead_periods: np.ndarray, order_quantity: np.ndarray, rng: np.random.Generator
    ) -> CycleDemand:
        """Draws of what one replenishment cycle's stock must cover under an (s, S) review with
        S - s = Q: from the position S, the demands A + Y until the one that takes the position to
        s or below (the trigger: a cycle always begins with a demand), then the demand D_L of the
        `lead_periods[i, d]` periods until that order arrives. The cycle is short iff
        A + Y + D_L > S. The walk is drawn demand by demand when Q is a few mean sizes (up to
        RENEWAL_STEPS demands); beyond, the renewal limit: S - s plus an undershoot uniform over a
        size-biased size. Every
        DRAWS_PER_PARAMETER_SET draws share an occurrence and a mean size drawn from their
        posterior (parameter uncertainty)."""
        n, n_draws = lead_periods.shape
        sets = -(-n_draws // DRAWS_PER_PARAMETER_SET)
        evidence = self.periods + 2 * OCCURRENCE_PRIOR
        p = rng.beta(
            np.maximum(self.occurrence * evidence, 1e-3)[:, None],
            np.maximum((1 - self.occurrence) * evidence, 1e-3)[:, None],
            (n, sets),
        )
        shape = (np.maximum(self.demands, 1.0) / np.maximum(self.size_cv2, 1e-6))[:, None]
        size = self.size_mean[:, None] * rng.gamma(shape, 1.0 / shape, (n, sets))
        spread = lambda values: np.repeat(values, DRAWS_PER_PARAMETER_SET, axis=1)[:, :n_draws].ravel()  # noqa: E731
        each = lambda values: np.repeat(values, n_draws)  # noqa: E731
        draw = _Draws(spread(size), each(np.maximum(self.size_cv2, 1e-6)), each(self.integer))
        lead = draw.sizes(rng.binomial(np.maximum(lead_periods, 0).ravel(), spread(p)), rng)
        q = each(np.maximum(np.broadcast_to(np.asarray(order_quantity, float), (n,)), 0.0))
        walked = np.zeros(n * n_draws)
        has = each(self.occurrence > 0)
        walk = has & (q <= WALKED_UP_TO * draw.size)
        idx = np.flatnonzero(walk)
        for _ in range(RENEWAL_STEPS):
            if idx.size == 0:
                break
            walked[idx] += draw.one_each(idx, rng)
            idx = idx[walked[idx] < q[idx]]
        limit = has & ~walk
        limit[idx] = True  # still above s after the walk
        idx = np.flatnonzero(limit)
        if idx.size:
            biased = rng.gamma(draw.unit_shape[idx] + 1.0, draw.scale[idx])
            walked[idx] = q[idx] + rng.random(idx.size) * biased
        lead = np.where(has, lead, 0.0).reshape(n, n_draws)
        walked = walked.reshape(n, n_draws)
        return CycleDemand(walked + lead, lead, walked)


def _own_moments(history: np.ndarray) -> tuple[np.ndarray, ...]:
    """CompoundDemand.fit's per-item figures, before the size CV² is pooled: periods, occurrence,
    demands, mean size, size CV², integer (rows of `history`)."""
    observed = ~np.isnan(history)
    y = np.nan_to_num(history)
    n = y.shape[0]
    count = observed.sum(axis=1)
    positive = y > 0
    demands = positive.sum(axis=1)
    first = np.argmax(observed, axis=1)
    opens_with_demand = ((count > 0) & positive[np.arange(n), first]).astype(int)
    periods = count - opens_with_demand
    occurrence = (demands - opens_with_demand + OCCURRENCE_PRIOR) / (periods + 2 * OCCURRENCE_PRIOR)
    occurrence = np.where(demands > 0, occurrence, 0.0)
    total = np.where(positive, y, 0.0).sum(axis=1)
    mean = np.divide(total, demands, out=np.zeros(n), where=demands > 0)
    spread = np.where(positive, (y - mean[:, None]) ** 2, 0.0).sum(axis=1)
    var = np.divide(spread, demands - 1, out=np.zeros(n), where=demands > 1)
    cv2 = np.divide(var, mean**2, out=np.zeros(n), where=mean > 0)
    integer = np.all(~observed | (y == np.rint(y)), axis=1)
    return periods, occurrence, demands, mean, cv2, integer


@dataclass(frozen=True)
class _Draws:
    """Per-draw size parameters of a compound model (flat arrays, one entry per item and draw): a
    demand's size is Gamma(1 / CV², mean * CV²)."""

    size: np.ndarray
    cv2: np.ndarray
    integer: np.ndarray

    @cached_property
    def unit_shape(self) -> np.ndarray:
        return 1.0 / self.cv2

    @cached_property
    def scale(self) -> np.ndarray:
        return self.size * self.cv2

    def sizes(self, count: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Sum of `count` independent sizes per entry, Gamma(count / CV², mean * CV²), rounded and at
        least one unit per demand for integer items."""
        out = np.zeros(count.size)
        at = np.flatnonzero(count > 0)
        k = count[at].astype(float)
        out[at] = self._whole(rng.gamma(k / self.cv2[at], self.scale[at]), k, at)
        return out

    def one_each(self, entries: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One size for each of `entries` (the walk's next demand)."""
        return self._whole(rng.gamma(self.unit_shape[entries], self.scale[entries]), 1.0, entries)

    def _whole(self, value: np.ndarray, demands: np.ndarray | float, entries: np.ndarray) -> np.ndarray:
        """Integer items' sizes rounded, at least one unit per demand."""
        return np.where(self.integer[entries], np.maximum(np.rint(value), demands), value)


@dataclass(frozen=True)
class CycleDemand:
    """Per item (rows), equally likely draws of a replenishment cycle: `cover` = A + Y + D_L, the
    demand the order-up-to level S must cover; `lead` = D_L; `cycle` = A + Y, the cycle's own
    demand (its order size)."""

    cover: np.ndarray
    lead: np.ndarray
    cycle: np.ndarray

    def service_curve(self, is_fill: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sorted cover draws (candidate levels S) and each one's service: the share of cycles
        covered (cycle service) or 1 - (E[(cover - S)+] - E[(lead - S)+]) / E[cycle] (fill rate:
        the shortage a cycle adds, over its demand)."""
        cover = np.sort(self.cover, axis=1)
        n, n_draws = cover.shape
        service = np.empty((n, n_draws))
        csl = ~np.asarray(is_fill, bool)
        if csl.any():
            part = cover[csl]
            last = np.concatenate([part[:, 1:] > part[:, :-1], np.ones((part.shape[0], 1), bool)], axis=1)
            upto = np.where(last, np.arange(1, n_draws + 1), n_draws)  # draws <= S, at the last of equal S
            service[csl] = np.minimum.accumulate(upto[:, ::-1], axis=1)[:, ::-1] / n_draws
        if (~csl).any():
            part = cover[~csl]
            above = np.cumsum(part[:, ::-1], axis=1)[:, ::-1]  # sum of the draws from position k on
            own = (above - (n_draws - np.arange(n_draws)) * part) / n_draws  # E[(cover - cover_k)+]
            short = own - expected_excess(self.lead[~csl], part)
            per_cycle = np.maximum(self.cycle[~csl].mean(axis=1, keepdims=True), 1e-12)
            service[~csl] = np.maximum.accumulate(1.0 - short / per_cycle, axis=1)
        return cover, service

    def order_up_to(self, is_fill: np.ndarray, level: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        """S per nominal level row (levels (R, n_items) -> (R, n_items)): the lowest candidate whose
        service reaches the level. Between it and the support point below, the item takes the
        upper one with the probability that makes its expected service the level, decided by its
        fixed `uniform` draw: whole-unit demand then reaches any pooled target instead of jumping
        between plateaus (with one-unit sizes, holding 1 or 2 is often 64 % or 96 % service)."""
        cover, service = self.service_curve(is_fill)
        n, n_draws = cover.shape
        rows = np.arange(n)
        level = np.atleast_2d(np.asarray(level, float))
        target = np.broadcast_to(level, (level.shape[0], n))
        k = np.minimum(_first_reaching(service, target - 1e-12), n_draws - 1)
        high, high_service = cover[rows, k], service[rows, k]
        below = np.maximum(k - 1, 0)
        low = np.where(k > 0, cover[rows, below], 0.0)
        low_service = np.where(k > 0, service[rows, below], 0.0)
        gap = high_service - low_service
        weight = np.divide(target - low_service, gap, out=np.ones(target.shape), where=gap > 0)
        return np.where(uniform < weight, high, low)


def _first_reaching(curves: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Per row of `curves` (n, D), each non-decreasing, the first column at or above each of its
    `levels` ((R, n)), D where none is: one binary search over all rows and levels at once."""
    n, d = curves.shape
    lo = np.zeros(levels.shape, dtype=int)
    hi = np.full(levels.shape, d)
    rows = np.arange(n)
    for _ in range(d.bit_length()):
        searching = lo < hi
        mid = (lo + hi) // 2
        reached = curves[rows, np.minimum(mid, d - 1)] >= levels
        lo = np.where(searching & ~reached, mid + 1, lo)
        hi = np.where(searching & reached, mid, hi)
    return lo


def expected_excess(values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """E[(X - c)+] per row, X the equally likely `values` (n, D), for each c of `points` (n, K):
    the rows sorted and shifted apart, one search for all points, sums of the values above each.
    Done SEARCH_BLOCK_ROWS rows at a time (a row's points only meet its own values), so that each
    block's arrays stay in the CPU cache."""
    n, d = values.shape
    ordered = np.sort(values, axis=1)
    span = float(max(np.ptp(ordered), np.ptp(points), 1.0)) * 4
    base = ordered.min() - points.max() - span
    above = np.concatenate([np.cumsum(ordered[:, ::-1], axis=1)[:, ::-1], np.zeros((n, 1))], axis=1)
    out = np.empty(points.shape)
    for lo in range(0, n, SEARCH_BLOCK_ROWS):
        block = slice(lo, lo + SEARCH_BLOCK_ROWS)
        offset = (np.arange(lo, min(lo + SEARCH_BLOCK_ROWS, n)) * span)[:, None]
        flat = (ordered[block] - base + offset).ravel()
        at = np.searchsorted(flat, (points[block] - base + offset).ravel(), side="right").reshape(offset.size, -1)
        count = at - np.arange(offset.size)[:, None] * d  # draws at or below each point, in its row
        out[block] = (np.take_along_axis(above[block], count, axis=1) - (d - count) * points[block]) / d
    return out


def uniform_per_item(ids: pd.Index | np.ndarray, seed: int = 0) -> np.ndarray:
    """A fixed uniform draw per item id (CRC32 of seed and id): the same in every cycle and run."""
    return np.array([zlib.crc32(f"{seed}:{item}".encode()) / 2**32 for item in ids])


def forecast_error_sigma(backtest: pd.DataFrame, risk_periods: pd.Series, min_blocks: int = 3) -> pd.Series:
    """Std of the forecast error accumulated over the risk period, per item, from a backtest.

    `backtest` holds unique_id, cutoff, ds, y, forecast (one model). Within every backtest window
    the errors y - forecast are summed over every run of m = min(P, window) consecutive periods;
    the root mean square of those sums (bias included) is scaled by sqrt(P / m). Items with fewer
    than `min_blocks` sums are left out (NaN): the caller falls back to the demand history.
    """
    out = {}
    for uid, item in backtest.groupby("unique_id", sort=False):
        if uid not in risk_periods.index:
            continue
        periods = float(risk_periods[uid])
        windows = [(w["y"] - w["forecast"]).to_numpy(float) for _, w in item.sort_values("ds").groupby("cutoff")]
        m = max(1, min([round(periods), *(len(e) for e in windows)]))
        sums = np.concatenate([np.convolve(e, np.ones(m), mode="valid") for e in windows if len(e) >= m])
        if len(sums) < min_blocks:
            out[uid] = math.nan
            continue
        out[uid] = float(np.sqrt(np.mean(np.square(sums))) * math.sqrt(max(periods, 1e-9) / m))
    return pd.Series(out, dtype=float).reindex(risk_periods.index)
