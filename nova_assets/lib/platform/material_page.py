"""What the material page needs from the lake, shaped for gold: recent daily demand and each model's
backtest error per material (the forecast layer keeps only per-model totals)."""

from __future__ import annotations

import pandas as pd

DEMAND_HISTORY_DAYS = 180


def recent_demand(history: pd.DataFrame, days: int = DEMAND_HISTORY_DAYS) -> pd.DataFrame:
    """The last `days` days of (unique_id, ds, y) as (material_id, demand_date, demand)."""
    end = history["ds"].max()
    recent = history[history["ds"] > end - pd.Timedelta(days=days)]
    return pd.DataFrame(
        {
            "material_id": recent["unique_id"].to_numpy(),
            "demand_date": pd.to_datetime(recent["ds"]).dt.date.to_numpy(),
            "demand": recent["y"].astype(float).to_numpy(),
        }
    )


def model_errors(backtest: pd.DataFrame) -> pd.DataFrame:
    """Per material and model over every backtest window: MAE, RMSE, bias (mean of forecast - actual), points."""
    error = backtest["forecast"].astype(float) - backtest["y"].astype(float)
    frame = pd.DataFrame(
        {
            "material_id": backtest["unique_id"],
            "model": backtest["model"],
            "e": error,
            "se": error**2,
            "ae": error.abs(),
        }
    )
    grouped = frame.groupby(["material_id", "model"], as_index=False).agg(
        mae=("ae", "mean"), mse=("se", "mean"), bias=("e", "mean"), n_points=("e", "size")
    )
    grouped["rmse"] = grouped.pop("mse") ** 0.5
    return grouped[["material_id", "model", "mae", "rmse", "bias", "n_points"]]
