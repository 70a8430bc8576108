"""The daily demand history every layer works from, the cycle day it ends on, and the day the cycle's
backtests (of the forecast and of the stock policy) end on."""

from datetime import date, timedelta

import pandas as pd


def history_from_demand(demand: pd.DataFrame) -> pd.DataFrame:
    """Daily demand per material (material_id, date, demand) in the statsforecast long format (unique_id, ds, y)."""
    history = demand.rename(columns={"material_id": "unique_id", "date": "ds", "demand": "y"})
    history["ds"] = pd.to_datetime(history["ds"])
    return history[["unique_id", "ds", "y"]].sort_values(["unique_id", "ds"], ignore_index=True)


def cycle_date(days: pd.Series) -> date:
    """The cycle's day: the last day of the demand history (forecasts start the day after)."""
    return pd.to_datetime(days).max().date()


BACKTEST_EPOCH = date(2024, 1, 1)  # a Monday: with a 7-day cadence, the backtests end on Mondays


def backtest_through(cycle_day: date, every_days: int) -> date:
    """The last day of the cycle's backtests (NOVA_BACKTEST_EVERY_DAYS): the latest day on or before
    the cycle's that is a whole number of `every_days` after BACKTEST_EPOCH (the cycle's own day with 1).

    A fixed calendar, so every forecast family and the policy backtest of a cycle replay the same
    days without sharing any state, and the ensemble compares its members on the same windows."""
    return cycle_day - timedelta(days=(cycle_day - BACKTEST_EPOCH).days % every_days)
