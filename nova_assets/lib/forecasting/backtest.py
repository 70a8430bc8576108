"""Score rolling-origin forecasts per item, per model, per demand class and overall."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.metrics import aggregate_bias, series_scores


def score_windows(history: pd.DataFrame, predictions: pd.DataFrame, season: int) -> pd.DataFrame:
    """One row per item x model x cutoff; scales come only from data up to the cutoff."""
    series = {uid: g.sort_values("ds") for uid, g in history.groupby("unique_id", sort=False)}
    rows = []
    for (uid, model, cutoff), window in predictions.groupby(["unique_id", "model", "cutoff"], sort=False):
        past = series[uid]
        train = past.loc[past["ds"] <= cutoff, "y"].to_numpy(dtype=float)
        window = window.sort_values("ds")
        scores = series_scores(train, window["y"].to_numpy(float), window["forecast"].to_numpy(float), season)
        rows.append({"unique_id": uid, "model": model, "cutoff": cutoff, **scores})
    return pd.DataFrame(rows)


def summarise(window_scores: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean scaled errors and aggregate bias over the rows of each group."""
    grouped = window_scores.groupby(by)
    summary = grouped.agg(
        mase=("mase", "mean"),
        rmsse=("rmsse", "mean"),
        total_demand_error=("total_demand_error", "mean"),
        sum_forecast=("sum_forecast", "sum"),
        sum_actual=("sum_actual", "sum"),
        n_series=("unique_id", "nunique"),
    ).reset_index()
    summary["bias"] = [aggregate_bias(f, a) for f, a in zip(summary["sum_forecast"], summary["sum_actual"], strict=True)]
    return summary.replace({np.inf: np.nan})
