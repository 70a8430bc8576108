"""The daily cycle: one job over the whole graph, scheduled at midnight in Salvador."""

import dagster as dg

daily_cycle = dg.define_asset_job(
    "daily_cycle",
    selection=dg.AssetSelection.all(),
    description="Raw sources -> dbt features -> forecasts -> ensemble -> reorder points -> alerts -> gold.",
    tags={"nova/cycle": "daily"},
)

daily_cycle_schedule = dg.ScheduleDefinition(
    name="daily_cycle_at_midnight",
    job=daily_cycle,
    cron_schedule="0 0 * * *",
    execution_timezone="America/Bahia",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
