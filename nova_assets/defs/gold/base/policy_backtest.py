"""The policy backtest's gold table (the backtest itself is an inventory asset)."""

import dagster as dg
import pandas as pd

from nova_assets.defs.gold.base.postgres import DATABASE, load_cycle
from nova_assets.lib.lake_tables import POLICY_BACKTEST
from nova_assets.resources import LakeResource, PostgresResource, lake_deps


@dg.asset(
    name="policy_backtest",
    key_prefix="gold",
    kinds={"postgres"},
    deps=[*lake_deps(POLICY_BACKTEST), DATABASE],
)
def gold_policy_backtest(
    context: dg.AssetExecutionContext, lake: LakeResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """analytics.policy_backtest: project policy vs baseline, overall and per criticality class."""
    frame = lake.read(POLICY_BACKTEST)
    cycle_date = pd.Timestamp(frame.pop("cycle_date").iloc[0]).date()
    return load_cycle(context, gold, "analytics.policy_backtest", cycle_date, frame)
