"""Forecast accuracy with the public benchmarks' definitions (M4/fev MASE, M5 RMSSE).

MASE alone rewards an all-zero forecast on intermittent data, so every report carries RMSSE,
bias and the error of the total demand over the horizon (what inventory depends on) beside it.
"""

from __future__ import annotations

import numpy as np


def seasonal_mae_scale(history: np.ndarray, season: int) -> float:
    """Mean absolute seasonal difference of the training series (MASE denominator)."""
    if len(history) <= season:
        return float("nan")
    return float(np.mean(np.abs(history[season:] - history[:-season])))


def rmsse_scale(history: np.ndarray) -> float:
    """Mean squared first difference from the first non-zero observation on (M5)."""
    nonzero = np.flatnonzero(history)
    if len(nonzero) == 0 or len(history) - nonzero[0] < 2:
        return float("nan")
    return float(np.mean(np.diff(history[nonzero[0] :]) ** 2))


def series_scores(history: np.ndarray, actual: np.ndarray, forecast: np.ndarray, season: int) -> dict[str, float]:
    """Scores of one series over one forecast window."""
    error = forecast - actual
    mae_scale = seasonal_mae_scale(history, season)
    sq_scale = rmsse_scale(history)
    mean_history = float(np.mean(history)) if len(history) else float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        mase = float(np.mean(np.abs(error)) / mae_scale) if mae_scale > 0 else float("nan")
        rmsse = float(np.sqrt(np.mean(error**2) / sq_scale)) if sq_scale > 0 else float("nan")
        total_error = float(abs(error.sum()) / (len(error) * mean_history)) if mean_history > 0 else float("nan")
    return {
        "mase": mase,
        "rmsse": rmsse,
        "smape": smape(actual, forecast),
        "mape": mape(actual, forecast),
        "total_demand_error": total_error,
        "sum_forecast": float(forecast.sum()),
        "sum_actual": float(actual.sum()),
    }


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean of 2|e| / (|a| + |f|) over the periods where it is defined (not both zero); NaN if none."""
    denominator = np.abs(actual) + np.abs(forecast)
    defined = denominator > 0
    if not defined.any():
        return float("nan")
    return float(np.mean(2 * np.abs(forecast - actual)[defined] / denominator[defined]))


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean of |e| / a over the periods with demand (undefined at a = 0); NaN if there are none."""
    defined = actual > 0
    if not defined.any():
        return float("nan")
    return float(np.mean(np.abs(forecast - actual)[defined] / actual[defined]))


def aggregate_bias(sum_forecast: float, sum_actual: float) -> float:
    """sum(forecast) / sum(actual) - 1: the sign says over- or under-forecasting."""
    return sum_forecast / sum_actual - 1.0 if sum_actual > 0 else float("nan")
