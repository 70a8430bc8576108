"""Combine per-model forecasts with explicit weights (learned weights arrive with the backtest)."""

from __future__ import annotations

import pandas as pd

from nova_assets.lib.forecasting.models import ZERO_MODEL

ENSEMBLE_MODEL = "Ensemble"


def equal_weights(models: list[str]) -> dict[str, float]:
    """Equal weight on every candidate model; the all-zero baseline is a yardstick, never a member."""
    members = sorted(m for m in set(models) if m != ZERO_MODEL)
    return {m: 1.0 / len(members) for m in members}


def combine(predictions: pd.DataFrame, weights: dict[str, float], keys: list[str]) -> pd.DataFrame:
    """Weighted sum of the member models' forecasts, per row identified by `keys`."""
    members = predictions[predictions["model"].isin(weights)]
    weighted = members.assign(forecast=members["forecast"] * members["model"].map(weights))
    extra = ["y"] if "y" in predictions.columns else []
    combined = weighted.groupby(keys, as_index=False).agg(
        forecast=("forecast", "sum"), **{c: (c, "first") for c in extra}
    )
    return combined.assign(model=ENSEMBLE_MODEL)
