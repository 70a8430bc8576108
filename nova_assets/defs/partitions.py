"""Partitions of the lakehouse: one per calendar day in Salvador (America/Bahia).

The dbt feature store is incremental by date: a daily partition (re)writes that day's rows of
the demand facts and the feature table (see dbt_project/macros/incremental.sql). Partition
keys are `YYYY-MM-DD`; the partition of day D covers [D 00:00, D+1 00:00) America/Bahia.
"""

import dagster as dg

PARTITIONS_START = "2015-01-01"
PARTITIONS_TIMEZONE = "America/Bahia"

daily_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone=PARTITIONS_TIMEZONE)
