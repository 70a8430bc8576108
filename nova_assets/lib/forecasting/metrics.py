"""Forecast accuracy, computed once for every caller: the backtest scores, the ensemble's objective,
the evaluation and the reports. Definitions of the public benchmarks:

- MASE (M4/fev): mean |error| over a window / mean |y_t - y_{t-m}| of the series' training data.
- RMSSE (M5): sqrt(mean squared error / mean squared first difference of the training data from its
  first non-zero value on).
- aggregate bias: sum(forecast) / sum(actual) - 1 over a set of windows (the sign says over/under).
- total-demand error: |sum of errors over the window| / (window length x mean training demand).
- quantile coverage: share of actuals at or below a forecast quantile.

A "window" is one series' forecast from one cutoff; its scales come from its data up to the cutoff
only. MASE alone rewards an all-zero forecast on intermittent data, so every report carries RMSSE,
bias and the total-demand error beside it. Everything is vectorised over (series x cutoff) windows:
the scales from cumulative sums over the panel, the per-window means by bincount. (utilsforecast's
losses scale by the whole training frame of a single cutoff and start RMSSE at the first value, not
the first demand; the M5 definition and per-cutoff scales are why these are our own.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.panel import Panel
from nova_assets.lib.forecasting.quantiles import quantile_column

WINDOW = ["unique_id", "cutoff"]  # one forecast window: a series from one cutoff
SCALE_COLUMNS = ["mae_scale", "sq_scale", "mean_demand"]


@dataclass(frozen=True)
class SeriesScales:
    """Running sums over each series' history from which the scales of any window (series, cutoff)
    are read at the cutoff's column: built once per history, read by every scoring of its windows."""

    ids: pd.Index  # the series, one matrix row each
    dates: np.ndarray  # (periods,) the panel's periods
    first: np.ndarray  # (series,) column of the first demand (periods: none)
    sums: dict[str, np.ndarray]  # (series, periods + 1); column c + 1 sums the columns 0..c

    @classmethod
    def build(cls, history: pd.DataFrame, season: int) -> SeriesScales:
        panel = Panel.from_history(history)
        y = panel.values
        observed = ~np.isnan(y)
        filled = np.nan_to_num(y)
        n, periods = y.shape

        def cumulative(values: np.ndarray) -> np.ndarray:
            return np.concatenate([np.zeros((n, 1)), np.cumsum(values, axis=1)], axis=1)

        seasonal = np.zeros_like(filled)
        seasonal_ok = np.zeros_like(observed)
        if season < periods:
            seasonal_ok[:, season:] = observed[:, season:] & observed[:, :-season]
            seasonal[:, season:] = np.where(
                seasonal_ok[:, season:], np.abs(filled[:, season:] - filled[:, :-season]), 0
            )
        positive = filled > 0
        first = np.where(positive.any(axis=1), positive.argmax(axis=1), periods)  # first demand
        step = np.zeros_like(filled)
        step[:, 1:] = (filled[:, 1:] - filled[:, :-1]) ** 2
        step[np.arange(periods)[None, :] <= first[:, None]] = 0.0  # differences from the first demand on
        sums = {
            "seasonal": cumulative(seasonal),
            "seasonal_n": cumulative(seasonal_ok.astype(float)),
            "step": cumulative(step),
            "y": cumulative(filled),
            "n": cumulative(observed.astype(float)),
        }
        return cls(pd.Index(panel.ids), panel.dates.to_numpy(), first, sums)

    def at(self, windows: pd.DataFrame) -> pd.DataFrame:
        """SCALE_COLUMNS of every (unique_id, cutoff) of `windows`, indexed by them (NaN for a series
        without history)."""
        keys = windows[WINDOW].drop_duplicates()
        row = self.ids.get_indexer(keys["unique_id"])
        known = row >= 0
        row = np.where(known, row, 0)
        col = np.searchsorted(self.dates, pd.to_datetime(keys["cutoff"]).to_numpy(), side="right")
        pick = {name: np.where(known, c[row, col], np.nan) for name, c in self.sums.items()}
        after_first = col - 1 - self.first[row]  # differences from the first demand up to the cutoff
        with np.errstate(invalid="ignore", divide="ignore"):
            mae = np.where(pick["seasonal_n"] > 0, pick["seasonal"] / pick["seasonal_n"], np.nan)
            sq = np.where(known & (after_first >= 1), pick["step"] / np.maximum(after_first, 1), np.nan)
            mean = np.where(pick["n"] > 0, pick["y"] / pick["n"], np.nan)
        return keys.assign(mae_scale=mae, sq_scale=sq, mean_demand=mean).set_index(WINDOW)


def window_scales(windows: pd.DataFrame, history: pd.DataFrame, season: int) -> pd.DataFrame:
    """MASE and RMSSE denominators and the mean demand of every (unique_id, cutoff) of `windows`,
    from the series' data up to the cutoff only; indexed by (unique_id, cutoff).

    NaN where undefined: MASE needs more than `season` points, RMSSE two points from the first demand on."""
    keys = windows[WINDOW].drop_duplicates()
    if keys.empty:
        return keys.assign(**{c: pd.Series(dtype=float) for c in SCALE_COLUMNS}).set_index(WINDOW)
    return SeriesScales.build(history[history["unique_id"].isin(keys["unique_id"].unique())], season).at(keys)


@dataclass(frozen=True)
class ScaledWindows:
    """Rows (series x cutoff x period) of forecast windows, each with its share of its window's
    scaled errors, so MASE and RMSSE of any forecast of these rows are two bincounts.

    Built once per set of windows; the ensemble evaluates many candidate weightings on it."""

    window: np.ndarray  # (rows,) window number 0..n_windows-1
    mae_weight: np.ndarray  # (rows,) 1 / (MASE scale x window length); 0 where undefined
    sq_weight: np.ndarray  # (rows,) 1 / (RMSSE scale x window length); 0 where undefined
    mase_defined: np.ndarray  # (windows,) bool
    rmsse_defined: np.ndarray  # (windows,) bool

    @classmethod
    def build(cls, rows: pd.DataFrame, scales: SeriesScales) -> ScaledWindows:
        """`rows`: unique_id, cutoff per forecast row; `scales` of their history."""
        window, keys = key_groups(rows, WINDOW)
        return cls.from_scales(window, scales.at(keys), np.bincount(window, minlength=len(keys)))

    @classmethod
    def from_scales(cls, window: np.ndarray, scales: pd.DataFrame, length: np.ndarray) -> ScaledWindows:
        mae, sq = scales["mae_scale"].to_numpy(float), scales["sq_scale"].to_numpy(float)
        mase_ok, rmsse_ok = mae > 0, sq > 0  # NaN compares False
        with np.errstate(invalid="ignore", divide="ignore"):
            mae_weight = np.where(mase_ok, 1.0 / (mae * length), 0.0)[window]
            sq_weight = np.where(rmsse_ok, 1.0 / (sq * length), 0.0)[window]
        return cls(window, mae_weight, sq_weight, mase_ok, rmsse_ok)

    def subset(self, rows: np.ndarray) -> ScaledWindows:
        kept, window = np.unique(self.window[rows], return_inverse=True)
        return ScaledWindows(
            window, self.mae_weight[rows], self.sq_weight[rows], self.mase_defined[kept], self.rmsse_defined[kept]
        )

    @property
    def n_windows(self) -> int:
        return len(self.rmsse_defined)

    def mase(self, error: np.ndarray) -> np.ndarray:
        """(windows,) MASE, NaN where undefined."""
        value = np.bincount(self.window, np.abs(error) * self.mae_weight, self.n_windows)
        return np.where(self.mase_defined, value, np.nan)

    def mean_squared_scaled(self, error: np.ndarray) -> np.ndarray:
        """(windows,) squared RMSSE, NaN where undefined."""
        value = np.bincount(self.window, error**2 * self.sq_weight, self.n_windows)
        return np.where(self.rmsse_defined, value, np.nan)

    def rmsse(self, error: np.ndarray) -> np.ndarray:
        """(windows,) RMSSE, NaN where undefined."""
        return np.sqrt(self.mean_squared_scaled(error))


def key_groups(rows: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Group number of each row (by `keys`, in order of first appearance: a window with WINDOW) and the
    keys of each group."""
    group = rows.groupby(keys, sort=False).ngroup().to_numpy()
    if not len(group):
        return group, rows[keys].reset_index(drop=True)
    seen = np.maximum.accumulate(group)  # rises exactly at each group's first row (numbered in that order)
    first = np.flatnonzero(np.r_[True, seen[1:] > seen[:-1]])
    return group, rows[keys].iloc[first].reset_index(drop=True)


def aggregate_bias(sum_forecast: float, sum_actual: float) -> float:
    """sum(forecast) / sum(actual) - 1: the sign says over- or under-forecasting."""
    return sum_forecast / sum_actual - 1.0 if sum_actual > 0 else float("nan")


def _smape_terms(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """2|e| / (|a| + |f|) per period, NaN where both are zero."""
    denominator = np.abs(actual) + np.abs(forecast)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 2 * np.abs(forecast - actual) / denominator, np.nan)


def _mape_terms(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """|e| / a per period, NaN where there was no demand."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(actual > 0, np.abs(forecast - actual) / actual, np.nan)


def _nanmean(values: np.ndarray) -> float:
    return float(np.mean(values[~np.isnan(values)])) if (~np.isnan(values)).any() else float("nan")


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean of 2|e| / (|a| + |f|) over the periods where it is defined (not both zero); NaN if none."""
    return _nanmean(_smape_terms(actual, forecast))


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean of |e| / a over the periods with demand (undefined at a = 0); NaN if there are none."""
    return _nanmean(_mape_terms(actual, forecast))


SCORE_COLUMNS = ["mase", "rmsse", "smape", "mape", "total_demand_error", "sum_forecast", "sum_actual"]


def score_windows(
    history: pd.DataFrame, predictions: pd.DataFrame, season: int, scales: SeriesScales | None = None
) -> pd.DataFrame:
    """One row per unique_id x model x cutoff with SCORE_COLUMNS; `predictions` has unique_id,
    model, cutoff, y and forecast per forecast period. Scales come only from data up to the cutoff
    (`scales`: built from `history` and `season` by the caller that scores several frames)."""
    keys = ["unique_id", "model", "cutoff"]
    window, frame = key_groups(predictions, keys)
    y, f = predictions["y"].to_numpy(float), predictions["forecast"].to_numpy(float)
    error = f - y
    length = np.bincount(window, minlength=len(frame))
    by_window = window_scales(frame, history, season) if scales is None else scales.at(frame)
    frame_scales = by_window.reindex(pd.MultiIndex.from_frame(frame[WINDOW]))
    scaled = ScaledWindows.from_scales(window, frame_scales, length)

    def per_window(values: np.ndarray, mean: bool = False) -> np.ndarray:
        ok = ~np.isnan(values)
        total = np.bincount(window[ok], values[ok], len(frame))
        if not mean:
            return total
        count = np.bincount(window[ok], minlength=len(frame))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    mean_demand = frame_scales["mean_demand"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        total_error = np.where(mean_demand > 0, np.abs(per_window(error)) / (length * mean_demand), np.nan)
    return frame.assign(
        mase=scaled.mase(error),
        rmsse=scaled.rmsse(error),
        smape=per_window(_smape_terms(y, f), mean=True),
        mape=per_window(_mape_terms(y, f), mean=True),
        total_demand_error=total_error,
        sum_forecast=per_window(f),
        sum_actual=per_window(y),
    )


def paired_difference(difference: np.ndarray, cluster: np.ndarray) -> tuple[float, float]:
    """Mean of paired differences (NaN ignored) and its z-score, the standard error clustered by
    `cluster`: one series' windows from overlapping origins are correlated, so they count as one."""
    defined = ~np.isnan(difference)
    d, c = difference[defined], cluster[defined]
    if len(d) < 2:
        return float(d.mean()) if len(d) else 0.0, 0.0
    mean = d.mean()
    totals = np.bincount(pd.factorize(c)[0], d - mean)
    se = np.sqrt(np.sum(totals**2)) / len(d)
    return float(mean), float(mean / se) if se > 0 else (0.0 if mean == 0 else float(np.sign(mean) * np.inf))


def summarise(window_scores: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean scaled errors (over the windows where defined) and aggregate bias of each group."""
    grouped = window_scores.groupby(by)
    summary = grouped.agg(
        mase=("mase", "mean"),
        rmsse=("rmsse", "mean"),
        smape=("smape", "mean"),
        mape=("mape", "mean"),
        total_demand_error=("total_demand_error", "mean"),
        sum_forecast=("sum_forecast", "sum"),
        sum_actual=("sum_actual", "sum"),
        n_series=("unique_id", "nunique"),
    ).reset_index()
    totals = zip(summary["sum_forecast"], summary["sum_actual"], strict=True)
    summary["bias"] = [aggregate_bias(f, a) for f, a in totals]
    return summary.replace({np.inf: np.nan})


def bias_by_cutoff(backtest: pd.DataFrame) -> pd.DataFrame:
    """Aggregate bias of the forecasts from each cutoff (cutoff, sum_forecast, sum_actual, bias): a
    level shift shared by the parts shows as one cutoff's bias moving, whatever the errors do."""
    totals = backtest.groupby("cutoff", as_index=False).agg(sum_forecast=("forecast", "sum"), sum_actual=("y", "sum"))
    totals["bias"] = [aggregate_bias(f, a) for f, a in zip(totals["sum_forecast"], totals["sum_actual"], strict=True)]
    return totals


def interval_coverage(actual: pd.DataFrame, quantiles: pd.DataFrame, levels: tuple[float, ...]) -> dict[str, float]:
    """Share of periods whose demand is at or below each quantile, and of series whose demand over
    the whole window is at or below its cumulative quantile (what a lead-time buffer must cover)."""
    merged = quantiles.merge(actual[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="inner")
    merged = merged.sort_values(["unique_id", "ds"])
    merged["cum_y"] = merged.groupby("unique_id")["y"].cumsum()
    last = merged.groupby("unique_id").tail(1)
    out = {}
    for q in levels:
        out[f"coverage_{quantile_column(q)}"] = float((merged["y"] <= merged[quantile_column(q)]).mean())
        out[f"coverage_{quantile_column(q, 'cum_')}"] = float(
            (last["cum_y"] <= last[quantile_column(q, "cum_")]).mean()
        )
    return out
