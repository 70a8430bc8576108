"""Brazilian, Bahia and Salvador holidays from the `holidays` package plus configurable municipal days."""

import dagster as dg

from nova_assets.defs.ingest.checks import check_specs, publish
from nova_assets.lib.sources.holidays_calendar import build_holidays, parse_municipal
from nova_assets.lib.sources.quality import CheckContext, evaluate
from nova_assets.resources import LakeResource, SourcesResource

TABLE = "holidays"
FIRST_YEAR = 2015


@dg.asset(key_prefix="raw", kinds={"python", "parquet"}, check_specs=check_specs(TABLE))
def holidays(context: dg.AssetExecutionContext, sources: SourcesResource, lake: LakeResource) -> dg.MaterializeResult:
    """National, state (BA), optional and municipal holidays (NOVA_MUNICIPAL_HOLIDAYS, default Salvador's),
    through the end of the year after the as-of date, with a 'major' flag."""
    municipal = parse_municipal(sources.municipal_holidays)
    table = build_holidays(range(FIRST_YEAR, sources.as_of.year + 2), municipal=municipal)
    outcomes = evaluate(TABLE, table, CheckContext(as_of=sources.as_of, origin="holidays package"))
    metadata = {
        "as_of": str(sources.as_of),
        "municipal": ", ".join(f"{m:02d}-{d:02d} {name}" for m, d, name in municipal),
        "by_scope": dg.MetadataValue.json(table["scope"].value_counts().to_dict()),
    }
    return publish(context, lake, TABLE, table, outcomes, metadata, origin="holidays package")
