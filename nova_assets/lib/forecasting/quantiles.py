"""Demand quantiles for inventory: per period and cumulated over a lead time, from backtest errors.

Method (empirical, no distribution assumed): in every backtest window the error of the ensemble,
actual - forecast, is divided by the series' standard deviation of demand (up to the cutoff)
times sqrt(L) for an L-period cumulative sum. These scaled errors are pooled per demand class
(all classes together when a class has fewer than MIN_POOL of them) and their empirical quantiles
z_q give

    daily  P_q(t) = max(0, F(t)   + z_q^daily  * sigma)
    lead   P_q(L) = max(0, F_1..L + z_q(L)     * sigma * sqrt(L))

with F the point forecast and sigma the series' standard deviation over all history. The scaled
errors carry what the point forecast gets wrong (bias, level shifts, zero-inflation), and the
quantiles are calibrated on the backtest by construction. Lead times beyond the horizon extend the
forecast at its mean level and reuse z_q(H). Cumulative quantiles never decrease with L. A history
too short for any backtest window has no errors to learn from: z_q are then the normal quantiles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

QUANTILES = (0.5, 0.9, 0.95)
MIN_POOL = 200
ALL_CLASSES = "all"


def quantile_column(q: float, prefix: str = "") -> str:
    """p50, p90, p95 (and cum_p50 ... with prefix 'cum_')."""
    return f"{prefix}p{q * 100:g}"


@dataclass(frozen=True)
class ErrorQuantiles:
    """Quantiles of scaled backtest errors: per class, for one period and for 1..H cumulated periods."""

    quantiles: tuple[float, ...]
    daily: dict[str, np.ndarray]  # class -> (Q,)
    cumulative: dict[str, np.ndarray]  # class -> (H, Q)

    def for_class(self, cls: str) -> tuple[np.ndarray, np.ndarray]:
        key = cls if cls in self.daily else ALL_CLASSES
        return self.daily[key], self.cumulative[key]


def _sigmas(history: pd.DataFrame, until: pd.Series | None = None) -> dict[tuple, float]:
    """Standard deviation of each series up to its window's cutoff (or over all history)."""
    out = {}
    for uid, group in history.sort_values("ds").groupby("unique_id", sort=False):
        dates, values = group["ds"].to_numpy(), group["y"].to_numpy(float)
        cutoffs = [None] if until is None else until.get(uid, [])
        for cutoff in cutoffs:
            end = len(values) if cutoff is None else np.searchsorted(dates, np.datetime64(cutoff), side="right")
            out[(uid, cutoff)] = float(np.std(values[:end])) if end else 0.0
    return out


def fit_error_quantiles(
    backtest: pd.DataFrame, history: pd.DataFrame, quantiles: Sequence[float] = QUANTILES
) -> ErrorQuantiles:
    """Empirical quantiles of scaled errors of a backtest (unique_id, ds, cutoff, y, forecast, demand_class)."""
    cutoffs = backtest.groupby("unique_id")["cutoff"].unique()
    sigma = _sigmas(history, cutoffs)
    daily: dict[str, list[np.ndarray]] = {}
    cumulative: dict[str, list[np.ndarray]] = {}
    horizon = backtest.groupby(["unique_id", "cutoff"]).size().max()
    for (uid, cutoff), window in backtest.sort_values("ds").groupby(["unique_id", "cutoff"], sort=False):
        scale = sigma[(uid, cutoff)]
        if scale <= 0 or len(window) < horizon:
            continue
        error = window["y"].to_numpy(float) - window["forecast"].to_numpy(float)
        steps = np.arange(1, len(error) + 1)
        for key in (window["demand_class"].iloc[0], ALL_CLASSES):
            daily.setdefault(key, []).append(error / scale)
            cumulative.setdefault(key, []).append(np.cumsum(error) / (scale * np.sqrt(steps)))
    q = np.asarray(quantiles, dtype=float)
    if ALL_CLASSES not in daily:  # a history too short for any backtest window: normal errors
        z = norm.ppf(q)
        return ErrorQuantiles(tuple(quantiles), {ALL_CLASSES: z}, {ALL_CLASSES: z[None, :]})
    pools = {key: np.concatenate(errors) for key, errors in daily.items()}
    return ErrorQuantiles(
        quantiles=tuple(quantiles),
        daily={k: np.quantile(v, q) for k, v in pools.items() if k == ALL_CLASSES or len(v) >= MIN_POOL},
        cumulative={
            k: np.quantile(np.vstack(cumulative[k]), q, axis=0).T
            for k, v in pools.items()
            if k == ALL_CLASSES or len(v) >= MIN_POOL
        },
    )


def forecast_quantiles(history: pd.DataFrame, point_forecast: pd.DataFrame, errors: ErrorQuantiles) -> pd.DataFrame:
    """Per series and forecast period: the period's quantiles and those of the demand cumulated from
    the first forecast period to this one (row `step` = L answers "demand over an L-period lead time").

    `point_forecast`: unique_id, ds, forecast, demand_class (the ensemble's rows)."""
    sigma = _sigmas(history)
    frames = []
    for uid, rows in point_forecast.sort_values("ds").groupby("unique_id", sort=False):
        scale = sigma.get((uid, None), 0.0)
        z_daily, z_cum = errors.for_class(rows["demand_class"].iloc[0])
        forecast = rows["forecast"].to_numpy(float)
        frame = {
            "unique_id": uid,
            "ds": rows["ds"].to_numpy(),
            "step": np.arange(1, len(forecast) + 1),
            "forecast": forecast,
            "cum_forecast": np.cumsum(forecast),
        }
        daily = np.maximum(forecast[:, None] + z_daily[None, :] * scale, 0.0)
        cumulative = _cumulative(forecast, len(forecast), z_cum, scale)
        for i, q in enumerate(errors.quantiles):
            frame[quantile_column(q)] = daily[:, i]
            frame[quantile_column(q, "cum_")] = cumulative[:, i]
        frames.append(pd.DataFrame(frame))
    return pd.concat(frames, ignore_index=True)


def lead_time_demand_quantiles(
    history: pd.DataFrame,
    point_forecast: pd.DataFrame,
    backtest: pd.DataFrame,
    lead_time_days: int | float | Mapping[object, float],
    quantiles: Sequence[float] = QUANTILES,
) -> pd.DataFrame:
    """Quantiles of the total demand over each series' lead time (periods, rounded up).

    `backtest`: the ensemble's backtest rows (unique_id, ds, cutoff, y, forecast, demand_class);
    `point_forecast`: its forecast rows (unique_id, ds, forecast, demand_class). One row per series:
    unique_id, lead_time, forecast (expected lead-time demand), p50, p90, p95."""
    errors = fit_error_quantiles(backtest, history, quantiles)
    sigma = _sigmas(history)
    rows = []
    for uid, group in point_forecast.sort_values("ds").groupby("unique_id", sort=False):
        raw = lead_time_days.get(uid) if isinstance(lead_time_days, Mapping) else lead_time_days
        if raw is None:
            continue
        lead = max(1, math.ceil(float(raw)))
        forecast = group["forecast"].to_numpy(float)
        _, z_cum = errors.for_class(group["demand_class"].iloc[0])
        cumulative = _cumulative(forecast, lead, z_cum, sigma.get((uid, None), 0.0))
        expected = _extended(forecast, lead).sum()
        rows.append(
            {
                "unique_id": uid,
                "lead_time": lead,
                "forecast": expected,
                **{quantile_column(q): cumulative[-1, i] for i, q in enumerate(quantiles)},
            }
        )
    return pd.DataFrame(rows)


def _extended(forecast: np.ndarray, periods: int) -> np.ndarray:
    """The forecast over `periods`: beyond the horizon it continues at its mean level."""
    if periods <= len(forecast):
        return forecast[:periods]
    return np.r_[forecast, np.full(periods - len(forecast), forecast.mean())]


def _cumulative(forecast: np.ndarray, periods: int, z_cum: np.ndarray, scale: float) -> np.ndarray:
    """(periods, Q) cumulative quantiles for L = 1..periods, non-decreasing in L."""
    steps = np.arange(1, periods + 1)
    z = z_cum[np.minimum(steps, len(z_cum)) - 1]
    values = np.cumsum(_extended(forecast, periods))[:, None] + z * scale * np.sqrt(steps)[:, None]
    return np.maximum.accumulate(np.maximum(values, 0.0), axis=0)
