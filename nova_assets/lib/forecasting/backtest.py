"""Score rolling-origin forecasts per item, per model, per demand class and overall."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.metrics import aggregate_bias, series_scores
from nova_assets.lib.forecasting.quantiles import quantile_column


def score_windows(history: pd.DataFrame, predictions: pd.DataFrame, season: int) -> pd.DataFrame:
    """One row per item x model x cutoff; scales come only from data up to the cutoff."""
    series = {uid: (g["ds"].to_numpy(), g["y"].to_numpy(float))
              for uid, g in history.sort_values("ds").groupby("unique_id", sort=False)}
    rows = []
    for (uid, model, cutoff), window in predictions.sort_values("ds").groupby(
            ["unique_id", "model", "cutoff"], sort=False):
        dates, values = series[uid]
        train = values[: np.searchsorted(dates, np.datetime64(cutoff), side="right")]
        scores = series_scores(train, window["y"].to_numpy(float), window["forecast"].to_numpy(float), season)
        rows.append({"unique_id": uid, "model": model, "cutoff": cutoff, **scores})
    return pd.DataFrame(rows)


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
            (last["cum_y"] <= last[quantile_column(q, "cum_")]).mean())
    return out
