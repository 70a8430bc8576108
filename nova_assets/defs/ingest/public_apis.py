"""Raw assets of the public sources (weather, economics), live or from the recorded snapshots."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd

from nova_assets.lib.sources import bacen_ptax, bacen_sgs, ibge_sidra, openmeteo
from nova_assets.lib.sources.snapshots import fetch_or_snapshot
from nova_assets.resources import LakeResource, SourcesResource

HISTORY_START = date(2015, 1, 1)


@dataclass(frozen=True)
class PublicSource:
    """How one raw table is fetched live, which snapshot stands in offline, and how it is parsed."""

    table: str
    description: str
    snapshot: str
    fetch_live: Callable[[date, date], bytes]
    parse: Callable[[bytes], pd.DataFrame]
    date_column: str


SOURCES = [
    PublicSource(
        "weather_daily",
        "Salvador daily weather from the Open-Meteo archive (hourly, aggregated in America/Bahia)",
        openmeteo.SNAPSHOT,
        lambda s, e: openmeteo.fetch_openmeteo_raw(openmeteo.BASE_URL, s, e),
        openmeteo.parse_openmeteo,
        "date",
    ),
    PublicSource(
        "economics_selic",
        "BACEN SGS 432: SELIC target rate (% a.a.), one row per calendar day",
        bacen_sgs.SNAPSHOT_SELIC,
        lambda s, e: bacen_sgs.fetch_sgs_raw(bacen_sgs.BASE_URL, bacen_sgs.SELIC_META, s, e),
        bacen_sgs.parse_sgs,
        "date",
    ),
    PublicSource(
        "economics_usd_brl",
        "BACEN PTAX USD closing sell rate (Olinda OData, Fechamento bulletin)",
        bacen_ptax.SNAPSHOT,
        lambda s, e: bacen_ptax.fetch_ptax_raw(bacen_ptax.BASE_URL, s, e),
        bacen_ptax.parse_ptax,
        "date",
    ),
    PublicSource(
        "economics_ipca",
        "IBGE SIDRA table 1737: IPCA monthly % change, Brasil",
        ibge_sidra.SNAPSHOT,
        lambda s, e: ibge_sidra.fetch_sidra_raw(ibge_sidra.BASE_URL),
        ibge_sidra.parse_sidra,
        "month",
    ),
]


def _source_asset(source: PublicSource) -> dg.AssetsDefinition:
    @dg.asset(
        name=source.table,
        key_prefix="raw",
        group_name="ingest",
        kinds={"python", "parquet"},
        description=source.description,
    )
    def _asset(sources: SourcesResource, lake: LakeResource) -> dg.MaterializeResult:
        payload, origin = fetch_or_snapshot(
            lambda: source.fetch_live(HISTORY_START, date.today()),
            sources.snapshots / source.snapshot,
            offline=sources.is_offline,
            bronze_dir=Path(lake.lake_dir) / "bronze" / source.table,
        )
        table = source.parse(payload)
        lake.write("raw", source.table, table)
        dates = pd.to_datetime(table[source.date_column])
        return dg.MaterializeResult(
            metadata={
                "origin": origin,
                "rows": len(table),
                "first_date": str(dates.min().date()),
                "last_date": str(dates.max().date()),
                "preview": dg.MetadataValue.md(table.tail(5).to_markdown(index=False)),
            }
        )

    return _asset


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[_source_asset(s) for s in SOURCES])
