"""Brazilian, Bahia and Salvador holidays from the `holidays` package."""

from datetime import date

import dagster as dg

from nova_assets.lib.sources.holidays_calendar import build_holidays
from nova_assets.resources import LakeResource

FIRST_YEAR = 2015


@dg.asset(key_prefix="raw", group_name="ingest", kinds={"python", "parquet"})
def holidays(lake: LakeResource) -> dg.MaterializeResult:
    """National, state (BA), optional and Salvador municipal holidays, with a 'major' flag."""
    table = build_holidays(range(FIRST_YEAR, date.today().year + 2))
    lake.write("raw", "holidays", table)
    return dg.MaterializeResult(
        metadata={
            "rows": len(table),
            "by_scope": dg.MetadataValue.json(table["scope"].value_counts().to_dict()),
        }
    )
