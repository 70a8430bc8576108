"""The policy backtest's gold table (the backtest itself is an inventory asset)."""

import dagster as dg
import pandas as pd

from nova_assets.defs.gold.base.postgres import DATABASE, load_cycle
from nova_assets.defs.history import load_cycle_date
from nova_assets.lib.lake_tables import DAILY_DEMAND, POLICY_BACKTEST
from nova_assets.resources import LakeResource, PostgresResource, lake_deps


@dg.asset(
    name="policy_backtest",
    key_prefix="gold",
    kinds={"postgres"},
    deps=[*lake_deps(POLICY_BACKTEST, DAILY_DEMAND), DATABASE],
)
def gold_policy_backtest(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """analytics.policy_backtest: project policy vs baseline, overall and per criticality class, as the
    cycle's rows (the marts join them by cycle) of the replay in force, kept since `replayed_through`."""
    frame = lake.read(POLICY_BACKTEST)
    frame["replayed_through"] = pd.to_datetime(frame.pop("cycle_date")).dt.date
    return load_cycle(context, gold, "analytics.policy_backtest", load_cycle_date(lake), frame)
