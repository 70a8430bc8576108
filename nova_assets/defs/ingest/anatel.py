"""5G roll-out: ANATEL licensed-stations exports -> monthly count of NR stations in Salvador.

ANATEL has no API for this: a user downloads the export (dados abertos / Spectrum-E) into
`<landing>/anatel/`. The newest export that parses is used; one that does not is moved to
`<landing>/anatel/rejected/` with its reason, and the previous export (or table) stands in.
"""

import dagster as dg
import pandas as pd

from nova_assets.defs.ingest.checks import check_specs, publish
from nova_assets.lib.lake_tables import ANATEL_5G_MONTHLY
from nova_assets.lib.sample import SYNTHETIC_MARKER
from nova_assets.lib.sources.anatel import parse_anatel_5g
from nova_assets.lib.sources.landing import landing_files, move_aside
from nova_assets.lib.sources.quality import CheckContext, evaluate
from nova_assets.resources import LakeResource, SourcesResource

TABLE = ANATEL_5G_MONTHLY.name
EXPORT_SUFFIXES = (".csv", ".txt")


@dg.asset(key_prefix="raw", kinds={"python", "parquet"}, check_specs=check_specs(TABLE))
def anatel_5g_monthly(
    context: dg.AssetExecutionContext, sources: SourcesResource, lake: LakeResource
) -> dg.MaterializeResult:
    """Monthly new and cumulative 5G (NR) stations in Salvador, from the newest readable export."""
    exports = [p for p in landing_files(sources.anatel_dir) if p.suffix.lower() in EXPORT_SUFFIXES]
    rejected: list[str] = []
    table, origin = None, ""
    for path in sorted(exports, key=lambda p: (p.stat().st_mtime, p.name), reverse=True):
        try:
            table, origin = parse_anatel_5g(path.read_bytes()), f"export {path.name}"
            break
        except (ValueError, KeyError, UnicodeDecodeError) as exc:
            moved = move_aside(path, f"{path.name}: {exc}", sources.anatel_dir)
            rejected.append(f"ANATEL export {path.name} rejected: {exc} (moved to {moved})")
            context.log.error(rejected[-1])
    if table is None:
        table, origin = lake.read_if_exists(ANATEL_5G_MONTHLY), "previous raw table"
        if table is None:
            raise dg.Failure(f"no readable ANATEL export (*.csv) in {sources.anatel_dir}: " + "; ".join(rejected))
    warning = f"STALE: {'; '.join(rejected)}. Using {origin} instead." if rejected else None
    outcomes = evaluate(TABLE, table, CheckContext(as_of=sources.as_of, origin=origin, fallback=bool(rejected)))
    total = table.set_index(pd.to_datetime(table["month"]))["stations_5g_total"] if len(table) else pd.Series()
    year_ago = total[total.index <= total.index.max() - pd.DateOffset(years=1)] if len(total) else total
    metadata = {
        "as_of": str(sources.as_of),
        "provenance": f"SYNTHETIC export generated with the sample (landing/{SYNTHETIC_MARKER})"
        if sources.is_synthetic
        else "ANATEL licensed-stations export dropped in the landing folder",
        "stations_5g_total": int(total.iloc[-1]) if len(total) else 0,
        "growth_12_months": f"{total.iloc[-1] / year_ago.iloc[-1] - 1:+.0%}"
        if len(year_ago) and year_ago.iloc[-1]
        else "n/a",
        "last_month": str(total.index.max().date()) if len(total) else "none",
    }
    return publish(context, lake, TABLE, table, outcomes, metadata, origin=origin, warning=warning)
