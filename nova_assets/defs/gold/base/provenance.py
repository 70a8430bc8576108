"""analytics.data_provenance: what the cycle's gold rows are built from (the generated sample, real
ERP exports or both), read by the dashboard's SYNTHETIC banner and the API's /health."""

import dagster as dg
import pandas as pd

from nova_assets.defs.forecast.ensemble import ERP_DATA
from nova_assets.defs.gold.base.postgres import DATABASE, load_cycle
from nova_assets.defs.ingest.checks import raw_key
from nova_assets.lib.lake_tables import ALERTS
from nova_assets.lib.sources.erp_files import ERP_TABLES
from nova_assets.lib.sources.erp_store import ErpProvenance, most_synthetic
from nova_assets.resources import LakeResource, PostgresResource, SourcesResource, lake_deps

# Loaded after the rows it describes: a cycle that fails before them keeps the last label with the last rows.
DESCRIBED = [dg.AssetKey(["gold", name]) for name in ("forecasts", "reorder_points", "alerts")]
ENSEMBLE = dg.AssetKey(["forecast", "forecast_ensemble"])


@dg.asset(
    key_prefix="gold",
    kinds={"postgres"},
    deps=[*(raw_key(table) for table in ERP_TABLES), *lake_deps(ALERTS), *DESCRIBED, ENSEMBLE, DATABASE],
)
def data_provenance(
    context: dg.AssetExecutionContext, lake: LakeResource, sources: SourcesResource, gold: PostgresResource
) -> dg.MaterializeResult:
    """The ERP tables' record of their files (ErpProvenance) and the landing folder's marker, as the cycle's row.

    The record now, or the one the forecast was made from if that is less real: a re-run of the gold layer
    alone after the sample's files are withdrawn still shows the sample's forecasts and alerts."""
    erp = most_synthetic(lake.erp_provenance(), *_forecast_record(context))
    cycle_date = lake.read(ALERTS, ["cycle_date"])["cycle_date"].iloc[0]
    landing_is_sample = sources.is_synthetic  # read once: the row and its sentence describe the same folder
    row = {
        "erp_files": erp.files,
        "erp_sample_files": erp.synthetic,
        "erp_unrecorded_files": erp.unrecorded,
        "landing_is_sample": landing_is_sample,
        "description": erp.describe(landing_is_sample),
    }
    result = load_cycle(context, gold, "analytics.data_provenance", cycle_date, pd.DataFrame([row]))
    return dg.MaterializeResult(metadata={**result.metadata, "data": row["description"]})


def _forecast_record(context: dg.AssetExecutionContext) -> list[ErpProvenance]:
    """The record the latest ensemble forecast was made from (its materialization's metadata), if any."""
    event = context.instance.get_latest_materialization_event(ENSEMBLE)
    materialization = event.asset_materialization if event else None
    value = materialization.metadata.get(ERP_DATA) if materialization else None
    return [ErpProvenance(**value.value)] if value is not None else []
