"""Raw assets of the public sources fetched from an API (weather, economics): one per entry of
`lib.sources.public.PUBLIC_TABLES`, live or from the recorded snapshots.

NOVA_OFFLINE=1 (the default) parses the recorded answers in data/snapshots; NOVA_OFFLINE=0 calls the
APIs (retries with backoff, timeouts), stores every answer in bronze before parsing, and on failure
uses the last good answer instead, with a warning in the metadata and a failed `fresh` check.

The daily series (weather, SELIC, PTAX) are daily-partitioned like the dbt models: a run of day D (or
of a backfill range, in one run) fetches those days plus a lookback (`public.fetch_window`) and
upserts them into the stored table, so the other days stay. Rows from a stand-in (a failed fetch)
only fill days the table lacks; they never overwrite stored data. Weather days keep the best source
(`weather.SOURCE_PRECEDENCE`): INMET yearly archives (raw/weather_inmet_history), INMET API, Open-Meteo.

Every asset here calls the network when live, so each has a Dagster retry policy with exponential
backoff and jitter around the connectors' own per-request retries (`http_client`): it re-runs the
step after an unexpected failure, e.g. a crash between the fetch and the write.
"""

from datetime import date, timedelta

import dagster as dg
import pandas as pd

from nova_assets.defs.ingest.checks import check_specs, publish
from nova_assets.defs.partitions import daily_partitions
from nova_assets.lib.lake_tables import WEATHER_INMET_HISTORY, raw
from nova_assets.lib.sources.public import PUBLIC_TABLES, PublicSource, fetch_window, plan_source
from nova_assets.lib.sources.quality import CheckContext, evaluate
from nova_assets.lib.sources.snapshots import SourceUnavailable, acquire
from nova_assets.lib.sources.upsert import upsert_rows
from nova_assets.lib.sources.weather import SOURCE_PRECEDENCE
from nova_assets.resources import LakeResource, SourcesResource, lake_deps

NETWORK_RETRY = dg.RetryPolicy(max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def _source_asset(source: PublicSource) -> dg.AssetsDefinition:
    table, daily = source.table, source.daily
    weather = table == "weather_daily"
    date_column = next(iter(source.rules.columns))  # every public table starts with its date (or month)

    @dg.asset(
        name=table,
        key_prefix="raw",
        kinds={"python", "parquet"},
        description=source.description,
        check_specs=check_specs(table),
        partitions_def=daily_partitions if daily else None,
        backfill_policy=dg.BackfillPolicy.single_run() if daily else None,
        retry_policy=NETWORK_RETRY,
        deps=lake_deps(WEATHER_INMET_HISTORY) if weather else None,
    )
    def _asset(context: dg.AssetExecutionContext, sources: SourcesResource, lake: LakeResource) -> dg.MaterializeResult:
        settings = sources.live_settings()
        stored = lake.read_if_exists(raw(table))
        window = None
        if daily and (context.has_partition_key or context.has_partition_key_range):
            days = context.partition_time_window
            first, last = days.start.date(), days.end.date() - timedelta(days=1)
            window = fetch_window(first, last, settings, _newest(stored, date_column))
        plan = plan_source(table, settings, sources.snapshots, sources.is_offline, window)
        for note in plan.notes:
            context.log.warning(note)
        try:
            got = acquire(
                plan.live,
                plan.snapshot,
                offline=sources.is_offline,
                bronze_root=lake.bronze(table),
                previous=stored,
            )
        except SourceUnavailable as exc:
            raise dg.Failure(  # live, the network may be back by the retry; offline nothing will change
                f"raw/{table}: no live data, no snapshot and no previous table: {exc}",
                allow_retries=not sources.is_offline,
            ) from exc
        warning = None
        if got.is_fallback:
            warning = f"STALE: {got.fallback_reason}. Using {got.origin} instead."
            context.log.warning(f"raw/{table}: {warning}")
        # a live answer is kept whole (a server ignoring the window must meet the date checks)
        fetched = got.table if got.origin == "live" else _within(got.table, date_column, window)
        history = lake.read_if_exists(WEATHER_INMET_HISTORY) if weather else None
        # most trusted first; a stand-in only fills days the stored table lacks
        frames = [history, stored, fetched] if got.is_fallback else [fetched, history, stored]
        merged = upsert_rows(
            [frame for frame in frames if frame is not None],
            date_column,
            **({"rank_column": "source", "rank": SOURCE_PRECEDENCE} if weather else {}),
        )
        outcomes = evaluate(
            table, merged, CheckContext(as_of=settings.as_of, origin=got.origin, fallback=got.is_fallback)
        )
        dates = pd.to_datetime(merged.get(date_column, pd.Series(dtype=object)), errors="coerce").dropna()
        metadata = {
            "mode": "offline (recorded snapshots)" if sources.is_offline else "live",
            "as_of": str(settings.as_of),
            **({"fetched_window": f"{window[0]}..{window[1]}"} if window else {}),
            "fetched_rows": len(fetched),
            "stored_rows_before": len(stored) if stored is not None else 0,
            "first_date": str(dates.min().date()) if len(dates) else "none",
            "last_date": str(dates.max().date()) if len(dates) else "none",
            **({"notes": "; ".join(plan.notes)} if plan.notes else {}),
            **({"bronze": str(got.bronze_path)} if got.bronze_path else {}),
            **({"source": ", ".join(sorted(merged["source"].dropna().unique()))} if "source" in merged else {}),
        }
        return publish(context, lake, table, merged, outcomes, metadata, origin=got.origin, warning=warning)

    return _asset


def _newest(stored: pd.DataFrame | None, date_column: str) -> date | None:
    """Newest stored day, None when nothing is stored yet (the partition run then fetches all history)."""
    if stored is None or date_column not in stored or stored[date_column].isna().all():
        return None
    return pd.to_datetime(stored[date_column]).max().date()


def _within(frame: pd.DataFrame, date_column: str, window: tuple[date, date] | None) -> pd.DataFrame:
    """The rows of a recorded stand-in inside the fetch window (all of them without a window)."""
    if window is None or date_column not in frame:
        return frame
    days = pd.to_datetime(frame[date_column])
    return frame[(days >= pd.Timestamp(window[0])) & (days <= pd.Timestamp(window[1]))].reset_index(drop=True)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[_source_asset(source) for source in PUBLIC_TABLES.values()])
