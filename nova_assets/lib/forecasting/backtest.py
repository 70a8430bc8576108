"""Score rolling-origin forecasts per item, per model, per demand class and overall."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.metrics import aggregate_bias, rmsse_scale, seasonal_mae_scale
from nova_assets.lib.forecasting.quantiles import quantile_column

WINDOW = ["unique_id", "cutoff"]


def window_scales(windows: pd.DataFrame, history: pd.DataFrame, season: int) -> pd.DataFrame:
    """MASE and RMSSE denominators and the mean demand of every (unique_id, cutoff) window of
    `windows`, from the series' data up to the cutoff only; indexed by (unique_id, cutoff)."""
    series = {
        uid: (g["ds"].to_numpy(), g["y"].to_numpy(float))
        for uid, g in history.sort_values("ds").groupby("unique_id", sort=False)
    }
    keys = windows[WINDOW].drop_duplicates()
    mae, sq, mean = [], [], []
    for uid, cutoff in keys.itertuples(index=False):
        dates, values = series[uid]
        train = values[: np.searchsorted(dates, np.datetime64(cutoff), side="right")]
        mae.append(seasonal_mae_scale(train, season))
        sq.append(rmsse_scale(train))
        mean.append(float(np.mean(train)) if len(train) else np.nan)
    return keys.assign(mae_scale=mae, sq_scale=sq, mean_demand=mean).set_index(WINDOW)


def score_windows(history: pd.DataFrame, predictions: pd.DataFrame, season: int) -> pd.DataFrame:
    """One row per item x model x cutoff, the scores of metrics.series_scores computed for all
    windows at once; scales come only from data up to the cutoff."""
    y, f = predictions["y"].to_numpy(float), predictions["forecast"].to_numpy(float)
    error = f - y
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = predictions[["unique_id", "model", "cutoff"]].assign(
            abs_error=np.abs(error),
            sq_error=error**2,
            error=error,
            forecast=f,
            y=y,
            smape=np.where(np.abs(y) + np.abs(f) > 0, 2 * np.abs(error) / (np.abs(y) + np.abs(f)), np.nan),
            mape=np.where(y > 0, np.abs(error) / y, np.nan),
        )
    scores = (
        terms.groupby(["unique_id", "model", "cutoff"], sort=False)
        .agg(
            mae=("abs_error", "mean"),
            mse=("sq_error", "mean"),
            sum_error=("error", "sum"),
            n=("error", "size"),
            smape=("smape", "mean"),
            mape=("mape", "mean"),
            sum_forecast=("forecast", "sum"),
            sum_actual=("y", "sum"),
        )
        .reset_index()
    )
    scales = window_scales(scores, history, season).reindex(pd.MultiIndex.from_frame(scores[WINDOW]))
    mae_scale, sq_scale, mean = (scales[c].to_numpy() for c in ("mae_scale", "sq_scale", "mean_demand"))
    with np.errstate(divide="ignore", invalid="ignore"):
        scores["mase"] = np.where(mae_scale > 0, scores["mae"] / mae_scale, np.nan)
        scores["rmsse"] = np.where(sq_scale > 0, np.sqrt(scores["mse"] / sq_scale), np.nan)
        scores["total_demand_error"] = np.where(mean > 0, np.abs(scores["sum_error"]) / (scores["n"] * mean), np.nan)
    return scores[
        [
            "unique_id",
            "model",
            "cutoff",
            "mase",
            "rmsse",
            "smape",
            "mape",
            "total_demand_error",
            "sum_forecast",
            "sum_actual",
        ]
    ]


def summarise(window_scores: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean scaled errors and aggregate bias over the rows of each group."""
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
