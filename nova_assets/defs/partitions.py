"""Partitions of the lakehouse: one per calendar day in Salvador, from the first day of data.

The dbt feature store is incremental by date: a daily partition (re)writes that day's rows of
the demand facts and the feature table (see dbt_project/features/macros/incremental.sql). Partition
keys are `YYYY-MM-DD`; the partition of day D covers [D 00:00, D+1 00:00) America/Bahia.

The first partition is the first day of the demand history (`first_day_of_data`), so the UI counts
only days that have data. It is read when the code location loads: after a first import of an
older history, reload the code location to see the earlier days.
"""

from datetime import date
from functools import cache
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from nova_assets.lib.lake_tables import ERP_MOVEMENTS
from nova_assets.lib.local_time import TIMEZONE_NAME
from nova_assets.lib.sample.period import sample_period
from nova_assets.lib.sources.openmeteo import SNAPSHOT, parse_openmeteo
from nova_assets.settings import load_settings


@cache
def first_day_of_data() -> date:
    """NOVA_PARTITIONS_START (YYYY-MM-DD) when set; else the first movement day of the lake's ERP
    history (from the Parquet statistics, no rows read); before any ERP import, the first day of the
    synthetic sample that `nova run` generates (NOVA_SAMPLE_YEARS of history)."""
    settings = load_settings()  # the environment, else the embedded defaults
    if settings.partitions_start:
        return settings.partitions_start
    first = first_movement_day(settings.lake_dir / ERP_MOVEMENTS.path)
    if first is not None:
        return first
    weather = parse_openmeteo((settings.snapshot_dir / SNAPSHOT).read_bytes())
    return sample_period(weather["date"].max(), settings.sample_years)[0]


def first_movement_day(movements: Path) -> date | None:
    """The smallest movement_date in the Parquet footer of raw/erp_movements, None without one."""
    if not movements.exists():
        return None
    metadata = pq.ParquetFile(movements).metadata
    column = metadata.schema.to_arrow_schema().get_field_index("movement_date")
    if column < 0:
        return None
    days = [
        statistics.min
        for group in range(metadata.num_row_groups)
        if (statistics := metadata.row_group(group).column(column).statistics) is not None and statistics.has_min_max
    ]
    return min(days) if days and all(isinstance(day, date) for day in days) else None


daily_partitions = dg.DailyPartitionsDefinition(start_date=first_day_of_data().isoformat(), timezone=TIMEZONE_NAME)
