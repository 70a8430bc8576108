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
quantiles are calibrated on the backtest by construction. Cumulative quantiles never decrease with
L, and over a one-period lead time they are the period's own: z_q(1) = z_q^daily, the errors of
every step pooled (the first step's alone would give a first period two different quantiles). A
history too short for any backtest window has no errors to learn from: z_q are then the normal
quantiles.
An item without any demand so far (NO_DEMAND) has no spread to scale by (sigma = 0, so every
quantile would be its forecast, the pooled rate of items like it: models.silent_item_rate); its
quantiles are those of Poisson demand at that rate, per period and cumulated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm, poisson

from nova_assets.lib.forecasting.demand_class import DemandClass

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


@dataclass(frozen=True)
class SeriesSpread:
    """Each series' running sums of its deviations from its own mean, in (series, date) order, from
    which `sigmas` reads the standard deviation up to any cutoff: built once per history."""

    series: pd.Index  # the series, in sorted order
    first: np.ndarray  # (series,) position of each series' first row
    counts: np.ndarray  # (series,) rows of each series
    sums: np.ndarray  # (rows,) running sum of the deviations within the series
    squares: np.ndarray  # (rows,) running sum of their squares
    ranked: np.ndarray  # (rows,) series number x span + seconds since origin: sorted, for the cutoff search
    origin: int
    span: int

    @classmethod
    def build(cls, history: pd.DataFrame) -> SeriesSpread:
        ordered = history.sort_values(["unique_id", "ds"], kind="stable")
        codes, series = pd.factorize(ordered["unique_id"])  # sorted: each series' rows are contiguous
        counts = np.bincount(codes, minlength=len(series))
        first = np.r_[0, np.cumsum(counts)[:-1]]
        values = ordered["y"].to_numpy(float)
        deviation = values - (np.bincount(codes, values, len(series)) / np.maximum(counts, 1))[codes]
        running = pd.DataFrame({"sum": deviation, "squares": deviation**2}).groupby(codes).cumsum()
        seconds = ordered["ds"].to_numpy("datetime64[s]").astype(np.int64)
        origin = int(seconds.min()) if len(seconds) else 0
        span = int(seconds.max() - origin) + 1 if len(seconds) else 1
        ranked = codes.astype(np.int64) * span + (seconds - origin)
        sums, squares = running["sum"].to_numpy(), running["squares"].to_numpy()
        return cls(pd.Index(series), first[: len(series)], counts, sums, squares, ranked, origin, span)

    def sigmas(self, keys: pd.DataFrame) -> np.ndarray:
        """Standard deviation (population) of each `keys` row's series (unique_id) over its history up
        to the row's `cutoff`, or over all of it without a cutoff column; 0 for a series without history.

        Vectorised over all rows: the running sums read at the cutoff's position (every window starts at
        the series' first observation)."""
        if not len(self.series):
            return np.zeros(len(keys))
        which = self.series.get_indexer(keys["unique_id"])
        known = which >= 0
        which = np.where(known, which, 0)
        start = self.first[which]
        if "cutoff" in keys.columns:  # position after the last observation on or before the cutoff
            cutoff = pd.to_datetime(keys["cutoff"]).to_numpy("datetime64[s]").astype(np.int64)
            target = which.astype(np.int64) * self.span + np.clip(cutoff - self.origin, -1, self.span - 1)
            end = np.maximum(np.searchsorted(self.ranked, target, side="right"), start)
        else:
            end = start + self.counts[which]
        n = end - start
        last = np.maximum(end - 1, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = self.sums[last] / n
            variance = self.squares[last] / n - mean**2
        return np.where(known & (n > 0), np.sqrt(np.maximum(np.nan_to_num(variance), 0.0)), 0.0)


def fit_error_quantiles(
    backtest: pd.DataFrame,
    history: pd.DataFrame,
    quantiles: Sequence[float] = QUANTILES,
    spread: SeriesSpread | None = None,
) -> ErrorQuantiles:
    """Empirical quantiles of scaled errors of a backtest (unique_id, ds, cutoff, y, forecast, demand_class);
    `spread`: of `history`, when the caller has built it."""
    q = np.asarray(quantiles, dtype=float)
    ordered = backtest.sort_values(["unique_id", "cutoff", "ds"], kind="stable")
    window = ordered.groupby(["unique_id", "cutoff"], sort=False).ngroup().to_numpy()
    lengths = np.bincount(window)
    first = np.r_[0, np.cumsum(lengths)[:-1]][: len(lengths)]
    keys = ordered.iloc[first][["unique_id", "cutoff", "demand_class"]]
    scale = (SeriesSpread.build(history) if spread is None else spread).sigmas(keys)
    horizon = int(lengths.max()) if len(lengths) else 0
    kept = (scale > 0) & (lengths == horizon)
    if not kept.any():  # a history too short for any backtest window: normal errors
        z = norm.ppf(q)
        return ErrorQuantiles(tuple(quantiles), {ALL_CLASSES: z}, {ALL_CLASSES: z[None, :]})
    rows = kept[window]
    error = (ordered["y"].to_numpy(float) - ordered["forecast"].to_numpy(float))[rows].reshape(-1, horizon)
    scale = scale[kept][:, None]
    daily = error / scale
    cumulative = np.cumsum(error, axis=1) / (scale * np.sqrt(np.arange(1, horizon + 1)))
    classes = keys["demand_class"].to_numpy()[kept]
    pools = {ALL_CLASSES: np.ones(len(classes), dtype=bool)} | {c: classes == c for c in pd.unique(classes)}
    pools = {k: w for k, w in pools.items() if k == ALL_CLASSES or w.sum() * horizon >= MIN_POOL}
    by_period = {k: np.quantile(daily[w], q) for k, w in pools.items()}
    lead = {k: np.quantile(cumulative[w], q, axis=0).T for k, w in pools.items()}
    return ErrorQuantiles(
        quantiles=tuple(quantiles),
        daily=by_period,
        cumulative={k: np.vstack([by_period[k], z[1:]]) for k, z in lead.items()},
    )


def forecast_quantiles(
    history: pd.DataFrame, point_forecast: pd.DataFrame, errors: ErrorQuantiles, spread: SeriesSpread | None = None
) -> pd.DataFrame:
    """Per series and forecast period: the period's quantiles and those of the demand cumulated from
    the first forecast period to this one (row `step` = L answers "demand over an L-period lead time").

    `point_forecast`: unique_id, ds, forecast, demand_class (the ensemble's rows); `spread`: of `history`,
    when the caller has built it."""
    rows = point_forecast.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    series = rows.groupby("unique_id", sort=False)
    group = series.ngroup().to_numpy()
    step = series.cumcount().to_numpy() + 1
    forecast = rows["forecast"].to_numpy(float)
    cum_forecast = series["forecast"].cumsum().to_numpy(float)
    spread = SeriesSpread.build(history) if spread is None else spread
    scale = spread.sigmas(rows.drop_duplicates("unique_id")[["unique_id"]])[group]
    n_q = len(errors.quantiles)
    z_daily, z_cum = np.empty((len(rows), n_q)), np.empty((len(rows), n_q))
    classes = series["demand_class"].transform("first").to_numpy()
    for cls in pd.unique(classes):
        members = classes == cls
        daily, cumulative = errors.for_class(cls)
        z_daily[members] = daily
        z_cum[members] = _z_at(cumulative, step[members])
    cumulative = _cumulative(cum_forecast, step, z_cum, scale, group)
    frame = {
        "unique_id": rows["unique_id"].to_numpy(),
        "ds": rows["ds"].to_numpy(),
        "step": step,
        "forecast": forecast,
        "cum_forecast": cum_forecast,
    }
    daily = np.maximum(forecast[:, None] + z_daily * scale[:, None], 0.0)
    silent = classes == DemandClass.NO_DEMAND
    levels = np.asarray(errors.quantiles, dtype=float)[None, :]
    daily[silent] = poisson.ppf(levels, forecast[silent, None])
    cumulative[silent] = poisson.ppf(levels, cum_forecast[silent, None])
    for i, q in enumerate(errors.quantiles):
        frame[quantile_column(q)] = daily[:, i]
        frame[quantile_column(q, "cum_")] = cumulative[:, i]
    return pd.DataFrame(frame)


def _z_at(z_cum: np.ndarray, step: np.ndarray) -> np.ndarray:
    """(rows, Q) the scaled-error quantiles of each row's lead time L (z_q(H) beyond the horizon H)."""
    return z_cum[np.minimum(step, len(z_cum)) - 1]


def _cumulative(
    cum_forecast: np.ndarray, step: np.ndarray, z: np.ndarray, scale: np.ndarray, series: np.ndarray
) -> np.ndarray:
    """(rows, Q) cumulative quantiles, one row per series and lead time L = step: the cumulated
    forecast plus z_q * sigma * sqrt(L), at least 0 and non-decreasing in L within each series."""
    values = np.maximum(cum_forecast[:, None] + z * (scale * np.sqrt(step))[:, None], 0.0)
    return pd.DataFrame(values).groupby(series).cummax().to_numpy()
