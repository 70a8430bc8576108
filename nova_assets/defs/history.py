"""The demand history the forecast, inventory and gold layers read, from the lake's daily demand fact."""

from datetime import date

import pandas as pd

from nova_assets.lib.demand_history import cycle_date, history_from_demand
from nova_assets.lib.lake_tables import DAILY_DEMAND
from nova_assets.resources import LakeResource


def load_history(lake: LakeResource) -> pd.DataFrame:
    """Daily demand per material as (unique_id, ds, y); the reading asset depends on lake_deps(DAILY_DEMAND)."""
    return history_from_demand(lake.read(DAILY_DEMAND))


def load_cycle_date(lake: LakeResource) -> date:
    """The cycle's day (see `cycle_date`), reading only the dates."""
    return cycle_date(lake.read(DAILY_DEMAND, ["date"])["date"])
