"""dbt models on DuckDB: staging, daily demand with explicit zeros, and the feature table.

Every dbt model is an asset of the daily partitions (America/Bahia); dbt tests are asset checks.
A run of partition D builds the whole dbt project with `--vars {"start_date": D, "end_date":
D+1}`: views and intermediate tables are rebuilt, the incremental demand facts and the feature
table rewrite only the window's days (dbt_project/features/macros/incremental.sql). A backfill of a
range runs once with the whole range as the window. `full_refresh: true` in the run config, a
missing/empty incremental table or a changed set of feature columns make it `--full-refresh`.
"""

import json
import os
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from pydantic import Field

from nova_assets.dbt_projects import features_project, prune_run_targets
from nova_assets.defs.partitions import daily_partitions
from nova_assets.defs.transform.warehouse import full_refresh_reason, load_manifest, writer_lock_conflict


class DbtBuildConfig(dg.Config):
    full_refresh: bool = Field(
        default=False,
        description="Rebuild the incremental models from scratch (dbt build --full-refresh) instead of "
        "rewriting only the partition's days.",
    )


def dbt_window_vars(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The partition (range) as dbt vars: start_date inclusive, end_date exclusive, local dates."""
    window = context.partition_time_window
    return {"start_date": window.start.strftime("%Y-%m-%d"), "end_date": window.end.strftime("%Y-%m-%d")}


def warehouse_path() -> Path | None:
    """The DuckDB file of the dbt profile (None on another target)."""
    if os.environ.get("NOVA_DBT_TARGET", "duckdb") != "duckdb" or not os.environ.get("NOVA_LAKE_DIR"):
        return None
    return Path(os.environ["NOVA_LAKE_DIR"]) / "warehouse.duckdb"


@dbt_assets(
    manifest=features_project.manifest_path,
    project=features_project,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb",
)
def dbt_features(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    """Build and test the dbt models for the partition's days; dbt tests report as asset checks."""
    dbt_vars = dbt_window_vars(context)
    args = ["build", "--vars", json.dumps(dbt_vars)]
    warehouse = warehouse_path()
    conflict = writer_lock_conflict(warehouse) if warehouse else None
    if conflict:
        raise dg.Failure(
            f"the DuckDB warehouse {warehouse} is in use by another process (another run's dbt step?); "
            f"dbt did not start, nothing was written. Retry when it ends. DuckDB: {conflict}"
        )
    if config.full_refresh:
        reason = "full_refresh requested in the run config"
    else:
        reason = full_refresh_reason(warehouse, load_manifest(features_project.manifest_path)) if warehouse else None
    if reason:
        args.append("--full-refresh")
        context.log.info(f"dbt full refresh: {reason}")
    else:
        context.log.info(f"dbt incremental run for [{dbt_vars['start_date']}, {dbt_vars['end_date']})")
    run_metadata = {
        "dbt_window_start": dbt_vars["start_date"],
        "dbt_window_end_exclusive": dbt_vars["end_date"],
        "dbt_full_refresh": bool(reason),
        "dbt_full_refresh_reason": reason or "",
    }
    invocation = dbt.cli(args, context=context)
    for event in invocation.stream():
        if isinstance(event, dg.Output):
            event = event.with_metadata({**event.metadata, **run_metadata})
        yield event
    prune_run_targets(invocation.target_path)
