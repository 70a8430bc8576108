"""INMET yearly historical ZIPs -> the station's daily weather, which raw/weather_daily ranks first.

Drop `YYYY.zip` from portal.inmet.gov.br ("dados históricos") into `<landing>/inmet/` (or
NOVA_INMET_HISTORY_DIR). New archives are registered by content hash and kept in bronze
(`lib.sources.inmet_history`); one that cannot be read is moved to `rejected/` with its reason and
the table is rebuilt from the archives accepted before.
"""

import dagster as dg

from nova_assets.defs.ingest.checks import check_specs, publish
from nova_assets.lib.lake_tables import WEATHER_INMET_HISTORY
from nova_assets.lib.sources.inmet_history import ArchiveReport, InmetHistoryStore, empty_daily
from nova_assets.lib.sources.landing import LandingError
from nova_assets.lib.sources.quality import CheckContext, evaluate
from nova_assets.resources import LakeResource, SourcesResource

TABLE = WEATHER_INMET_HISTORY.name


@dg.asset(key_prefix="raw", kinds={"python", "parquet"}, check_specs=check_specs(TABLE))
def weather_inmet_history(
    context: dg.AssetExecutionContext, sources: SourcesResource, lake: LakeResource
) -> dg.MaterializeResult:
    """Daily weather of station NOVA_INMET_STATION from every accepted INMET yearly ZIP."""
    station = sources.inmet_station
    store = InmetHistoryStore(lake.bronze("inmet_history", station), station)
    try:
        report = store.ingest(sources.inmet_dir)
    except LandingError as exc:  # the folder cannot be listed: nothing new, the table from the stored archives
        report = ArchiveReport(rejected=[str(exc)])
    for line in report.rejected:
        context.log.error(line)
    for entry in report.loaded:
        context.log.info(f"loaded {entry.file_name}: {entry.hours} hours of station {station}")
    table = store.daily()
    previous = lake.read_if_exists(WEATHER_INMET_HISTORY) if table is None else None
    if table is not None:
        origin = f"{len(store.archives())} INMET yearly archive(s)"
    elif previous is not None:
        table, origin = previous, "previous raw table (no accepted archive in the store)"
    else:
        table, origin = empty_daily(), f"no INMET archive in {sources.inmet_dir} yet"
    warning = "; ".join(report.rejected) or None
    outcomes = evaluate(TABLE, table, CheckContext(as_of=sources.as_of, origin=origin, rejected_files=report.rejected))
    metadata = {
        "station": station,
        "landing": str(sources.inmet_dir),
        "archives": dg.MetadataValue.md(
            "\n".join(
                f"- {a.file_name} (sha256 {a.content_hash[:12]}, {a.hours} hours, {a.first_hour_utc} .. "
                f"{a.last_hour_utc} UTC)"
                for a in store.archives()
            )
            or "none"
        ),
        "archives_new": [a.file_name for a in report.loaded],
        "archives_already_loaded": report.skipped,
        "archives_rejected": report.rejected,
        "first_date": str(table["date"].min()) if len(table) else "none",
        "last_date": str(table["date"].max()) if len(table) else "none",
    }
    metadata = {k: dg.MetadataValue.json(v) if isinstance(v, list) else v for k, v in metadata.items()}
    return publish(context, lake, TABLE, table, outcomes, metadata, origin=origin, warning=warning)
