"""Prediction intervals from backtest residuals (split-conformal style), for models that give none."""

from __future__ import annotations

import pandas as pd

DEFAULT_LEVEL = 0.8


def residual_intervals(forecast: pd.DataFrame, backtest: pd.DataFrame, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """Add forecast_lo / forecast_hi / interval_level to `forecast` (unique_id, ds, model, forecast).

    The bounds are the forecast plus the (1-level)/2 and (1+level)/2 quantiles of the same model's
    backtest errors (y - forecast) on the same series, clipped at zero: wide where the model erred
    widely out of sample (a biased model's interval need not contain its point
    forecast). Series/model pairs without a backtest get no interval (NULL).
    """
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    errors = backtest.assign(error=backtest["y"] - backtest["forecast"])
    grouped = errors.groupby(["unique_id", "model"])["error"]
    bounds = pd.DataFrame({"q_lo": grouped.quantile((1 - level) / 2), "q_hi": grouped.quantile((1 + level) / 2)})
    out = forecast.merge(bounds.reset_index(), on=["unique_id", "model"], how="left")
    out["forecast_lo"] = (out["forecast"] + out["q_lo"]).clip(lower=0)
    out["forecast_hi"] = (out["forecast"] + out["q_hi"]).clip(lower=0)
    out["interval_level"] = pd.Series(level, index=out.index).where(out["q_lo"].notna())
    return out.drop(columns=["q_lo", "q_hi"])
