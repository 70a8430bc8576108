"""The daily demand history every layer works from, and the cycle day it ends on."""

from datetime import date

import pandas as pd


def history_from_demand(demand: pd.DataFrame) -> pd.DataFrame:
    """Daily demand per material (material_id, date, demand) in the statsforecast long format (unique_id, ds, y)."""
    history = demand.rename(columns={"material_id": "unique_id", "date": "ds", "demand": "y"})
    history["ds"] = pd.to_datetime(history["ds"])
    return history[["unique_id", "ds", "y"]].sort_values(["unique_id", "ds"], ignore_index=True)


def cycle_date(days: pd.Series) -> date:
    """The cycle's day: the last day of the demand history (forecasts start the day after)."""
    return pd.to_datetime(days).max().date()
