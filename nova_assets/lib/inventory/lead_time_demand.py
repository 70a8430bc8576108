"""Demand over the risk period (lead time + review period) as a distribution, batched over items.

Two shapes: normal (mean and sigma_LTD = sqrt(L * sigma_d^2 + d^2 * sigma_L^2), sigma_d from the
backtest's forecast errors) for smooth/erratic items, and empirical (bootstrapped blocks of the
demand history with a sampled lead time, or the forecast layer's own quantiles) for intermittent
and lumpy items, where the normal puts mass on negative demand and misses the spikes. Both answer
the same two questions: the reorder point for a cycle service level and for a fill rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    """Normal lead-time demand per item."""

    mean: np.ndarray
    std: np.ndarray

    def reorder_point(self, is_fill: np.ndarray, level: np.ndarray, order_quantity: np.ndarray) -> np.ndarray:
        """mean + z * std, z from the normal quantile (CSL) or the normal loss function (fill rate)."""
        is_fill = np.broadcast_to(is_fill, self.mean.shape)
        z = np.broadcast_to(z_cycle_service(level), self.mean.shape).copy()
        if is_fill.any():
            fill = lambda v: np.broadcast_to(v, self.mean.shape)[is_fill]  # noqa: E731
            z[is_fill] = z_fill_rate(fill(level), fill(order_quantity), self.std[is_fill])
        return self.mean + z * self.std


@dataclass(frozen=True)
class EmpiricalLTD:
    """Lead-time demand as equally likely draws per item (rows)."""

    samples: np.ndarray  # (n_items, n_draws)

    @classmethod
    def from_quantiles(cls, levels: np.ndarray, values: np.ndarray, n_draws: int = 400) -> EmpiricalLTD:
        """From quantiles (n_items, k) at `levels` (k,), e.g. the forecast layer's lead-time quantiles:
        the quantile function read at n_draws mid-points, linearly between the given levels."""
        grid = (np.arange(n_draws) + 0.5) / n_draws
        values = np.maximum.accumulate(np.asarray(values, float), axis=1)
        return cls(np.vstack([np.interp(grid, levels, row) for row in values]))

    @property
    def mean(self) -> np.ndarray:
        return self.samples.mean(axis=1)

    def rescaled(self, mean: np.ndarray) -> EmpiricalLTD:
        """Same shape, new level: the history gives the spread, the forecast the level."""
        current = self.mean
        factor = np.divide(mean, current, out=np.ones_like(current), where=current > 0)
        return EmpiricalLTD(self.samples * factor[:, None])

    def reorder_point(self, is_fill: np.ndarray, level: np.ndarray, order_quantity: np.ndarray) -> np.ndarray:
        """CSL: smallest draw x with F(x) >= level. Fill rate: smallest draw x with
        E[(X - x)+] <= (1 - fill) * Q, the empirical expected shortage per cycle."""
        x = np.sort(self.samples, axis=1)
        n = x.shape[1]
        k_csl = np.clip(np.ceil(np.asarray(level, float) * n - 1e-9).astype(int) - 1, 0, n - 1)
        csl = np.take_along_axis(x, np.broadcast_to(k_csl, (x.shape[0],))[:, None], axis=1)[:, 0]
        above = x.sum(axis=1, keepdims=True) - np.cumsum(x, axis=1)  # sum of draws after position k
        shortage = (above - (n - 1 - np.arange(n)) * x) / n
        allowed = (1.0 - np.asarray(level, float)) * np.maximum(order_quantity, 0.0)
        k_fill = np.argmax(shortage <= np.broadcast_to(allowed, (x.shape[0],))[:, None] + 1e-12, axis=1)
        fill = x[np.arange(x.shape[0]), k_fill]
        return np.where(is_fill, fill, csl)


def sample_lead_times(mean: np.ndarray, std: np.ndarray, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Whole-period lead times drawn from N(mean, std), rounded, at least 0: (n_items, n_draws)."""
    mean = np.asarray(mean, float)[:, None]
    std = np.asarray(std, float)[:, None]
    return np.maximum(np.rint(rng.normal(mean, std, (mean.shape[0], n_draws))), 0).astype(int)


def block_bootstrap(
    history: np.ndarray,
    lengths: np.ndarray,
    rng: np.random.Generator,
    first: np.ndarray | None = None,
    block: int | None = None,
) -> EmpiricalLTD:
    """Moving-block bootstrap of the demand over `lengths[i, d]` periods for item i, draw d.

    Each draw strings together random blocks of `block` consecutive periods (the last one cut
    to length) from the item's history: blocks keep the clustering of lumpy demand that an iid
    resample breaks, and several blocks per draw keep long lead times from resting on the few
    non-overlapping stretches one window holds. The default block is the cube root of the
    window (7 days of a year, 3 months of two years). `history` is (n_items, T), periods before
    `first[i]` ignored; an item with a shorter history than a block gets its rate times the length.
    """
    n_items, n_periods = history.shape
    first = np.zeros(n_items, int) if first is None else np.minimum(np.asarray(first, int), n_periods)
    size = block or max(1, round(n_periods ** (1 / 3)))
    cum = np.concatenate([np.zeros((n_items, 1)), np.cumsum(np.nan_to_num(history), axis=1)], axis=1)
    available = n_periods - first
    n_draws = lengths.shape[1]
    # one entry per block a draw uses (a short lead time needs fewer blocks than the longest one)
    blocks = -(-np.maximum(lengths, 0).ravel() // size)
    pair = np.repeat(np.arange(n_items * n_draws), blocks)  # item * n_draws + draw
    k = np.arange(pair.size) - np.repeat(np.cumsum(blocks) - blocks, blocks)
    item = pair // n_draws
    piece = np.minimum(lengths.ravel()[pair] - k * size, size)
    span = np.maximum(available[item] - size + 1, 1)
    start = first[item] + np.floor(rng.random(pair.size) * span).astype(int)
    end = np.minimum(start + piece, n_periods)
    flat = cum.ravel()
    offset = item * (n_periods + 1)
    sums = np.bincount(pair, weights=flat[offset + end] - flat[offset + start], minlength=n_items * n_draws)
    sums = sums.reshape(n_items, n_draws)
    total = cum[:, -1] - cum[np.arange(n_items), first]
    rate = np.divide(total, available, out=np.zeros(n_items), where=available > 0)[:, None]
    fits = (available >= size)[:, None]
    return EmpiricalLTD(np.where(fits, sums, rate * lengths))


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
