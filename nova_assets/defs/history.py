"""The demand history the forecast, inventory and gold layers read, from the lake's daily demand fact,
with superseded parts' demand carried forward to their successors (materials' `supersedes`)."""

from collections.abc import Callable
from datetime import date

import duckdb
import pandas as pd

from nova_assets.lib.demand_history import cycle_date, history_from_demand
from nova_assets.lib.lake_tables import DAILY_DEMAND, ERP_MATERIALS
from nova_assets.lib.maintenance.lifecycle import successor_map, supersession_chains
from nova_assets.resources import LakeResource

HISTORY_TABLES = (DAILY_DEMAND, ERP_MATERIALS)  # what load_history reads: a reading asset's lake_deps


def load_successors(lake: LakeResource) -> dict[str, str]:
    """Superseded part -> its final successor, from the materials' `supersedes` column."""
    return successor_map(supersession_chains(lake.read(ERP_MATERIALS, ["material_id", "supersedes"])))


def load_history(lake: LakeResource, keep: Callable[[str], bool] | None = None) -> pd.DataFrame:
    """Daily demand per material as (unique_id, ds, y), a superseded part's demand added to its final
    successor's (the predecessors leave the panel: the forecast, the policy and the alerts are the
    successor's); with `keep`, only the materials it accepts (a material group). The reading asset
    depends on lake_deps(*HISTORY_TABLES)."""
    successors = load_successors(lake)
    with duckdb.connect() as con:
        return history_from_demand(con, lake.scan(con, DAILY_DEMAND), successors, keep)


def load_cycle_date(lake: LakeResource) -> date:
    """The cycle's day (see `cycle_date`), reading only the dates."""
    return cycle_date(lake.read(DAILY_DEMAND, ["date"])["date"])
