"""Raw assets of the public sources (weather, economics): live APIs or the recorded snapshots.

NOVA_OFFLINE=1 (the default) parses the recorded answers in data/snapshots; NOVA_OFFLINE=0 calls the
APIs (retries with backoff, timeouts), stores every answer in bronze before parsing, and on failure
uses the last good answer instead, with a warning in the metadata and a failed `fresh` check.
"""

import dagster as dg
import pandas as pd

from nova_assets.defs.ingest.checks import check_specs, publish
from nova_assets.lib import lake as lake_tables
from nova_assets.lib.sources.public import PUBLIC_TABLES, plan_source
from nova_assets.lib.sources.quality import RULES, CheckContext, evaluate
from nova_assets.lib.sources.snapshots import SourceUnavailable, acquire
from nova_assets.resources import LakeResource, SourcesResource


def _source_asset(table: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=table,
        key_prefix="raw",
        group_name="ingest",
        kinds={"python", "parquet"},
        description=PUBLIC_TABLES[table],
        check_specs=check_specs(table),
    )
    def _asset(context: dg.AssetExecutionContext, sources: SourcesResource, lake: LakeResource) -> dg.MaterializeResult:
        settings = sources.live_settings()
        plan = plan_source(table, settings, sources.snapshots, sources.is_offline)
        for note in plan.notes:
            context.log.warning(note)
        try:
            got = acquire(
                plan.live,
                plan.snapshot,
                offline=sources.is_offline,
                bronze_root=lake.root / "bronze" / table,
                previous=lake_tables.table_path(lake.root, "raw", table),
            )
        except SourceUnavailable as exc:
            raise dg.Failure(f"raw/{table}: no live data, no snapshot and no previous table: {exc}") from exc
        warning = None
        if got.is_fallback:
            warning = f"STALE: {got.fallback_reason}. Using {got.origin} instead."
            context.log.warning(f"raw/{table}: {warning}")
        outcomes = evaluate(
            table, got.table, CheckContext(as_of=settings.as_of, origin=got.origin, fallback=got.is_fallback)
        )
        date_column = next(iter(RULES[table].columns))  # every public table starts with its date (or month)
        dates = pd.to_datetime(got.table.get(date_column, pd.Series(dtype=object)), errors="coerce").dropna()
        metadata = {
            "mode": "offline (recorded snapshots)" if sources.is_offline else "live",
            "as_of": str(settings.as_of),
            "first_date": str(dates.min().date()) if len(dates) else "none",
            "last_date": str(dates.max().date()) if len(dates) else "none",
            **({"notes": "; ".join(plan.notes)} if plan.notes else {}),
            **({"bronze": str(got.bronze_path)} if got.bronze_path else {}),
            **({"source": ", ".join(sorted(got.table["source"].unique()))} if "source" in got.table else {}),
        }
        return publish(context, lake, table, got.table, outcomes, metadata, origin=got.origin, warning=warning)

    return _asset


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[_source_asset(table) for table in PUBLIC_TABLES])
