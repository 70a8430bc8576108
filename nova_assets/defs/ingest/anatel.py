"""5G roll-out: ANATEL licensed-stations exports -> monthly count of NR stations in Salvador."""

import dagster as dg
import pandas as pd

from nova_assets.lib.sources.anatel import parse_anatel_5g
from nova_assets.resources import LakeResource, SourcesResource


@dg.asset(key_prefix="raw", group_name="ingest", kinds={"python", "parquet"})
def anatel_5g_monthly(
    context: dg.AssetExecutionContext, sources: SourcesResource, lake: LakeResource
) -> dg.MaterializeResult:
    """Monthly new and cumulative 5G (NR) stations, from the newest export in the landing folder."""
    exports = sorted(sources.anatel_dir.glob("*.csv"), key=lambda p: p.stat().st_mtime)
    if not exports:
        raise dg.Failure(f"no ANATEL export (*.csv) in {sources.anatel_dir}")
    table = parse_anatel_5g(exports[-1].read_bytes())
    lake.write("raw", "anatel_5g_monthly", table)
    return dg.MaterializeResult(
        metadata={
            "export": exports[-1].name,
            "rows": len(table),
            "stations_5g_total": int(table["stations_5g_total"].max()) if len(table) else 0,
            "last_month": str(pd.to_datetime(table["month"]).max().date()) if len(table) else "none",
        }
    )
