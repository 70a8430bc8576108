"""Load the daily demand history the forecast layer trains on (shared by the forecast assets)."""

import pandas as pd

from nova_assets.lib.forecasting.panel import DEFAULT_SEASON
from nova_assets.resources import LakeResource

DEMAND_ASSET = "fct_item_daily_demand"
CYCLE_FREQ = "D"  # the cycle forecasts the daily demand table
CYCLE_SEASON = DEFAULT_SEASON[CYCLE_FREQ]


def load_history(lake: LakeResource) -> pd.DataFrame:
    """Daily demand per material in the statsforecast long format (unique_id, ds, y)."""
    demand = lake.read("silver", DEMAND_ASSET)
    history = demand.rename(columns={"material_id": "unique_id", "date": "ds", "demand": "y"})
    history["ds"] = pd.to_datetime(history["ds"])
    return history[["unique_id", "ds", "y"]].sort_values(["unique_id", "ds"], ignore_index=True)
