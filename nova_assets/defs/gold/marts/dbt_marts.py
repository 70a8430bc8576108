"""The gold marts: a dbt-postgres project (dbt_project/gold) over the gold base tables.

dbt tests report as asset checks and are also written to support.data_quality_results, so a BI
user can see in SQL whether today's figures passed their tests.
"""

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from nova_assets.dbt_projects import gold_project, prune_run_targets
from nova_assets.defs.gold.base.postgres import gold_connection
from nova_assets.lib.gold.connection import dbt_environment
from nova_assets.resources import PostgresResource


class MartsTranslator(DagsterDbtTranslator):
    """Marts are keyed marts/<model>; sources keep their meta asset keys."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey(["marts", dbt_resource_props["name"]])


@dbt_assets(
    manifest=gold_project.manifest_path,
    project=gold_project,
    dagster_dbt_translator=MartsTranslator(),
    name="gold_marts",
)
def gold_marts(context: dg.AssetExecutionContext, dbt_gold: DbtCliResource, gold: PostgresResource) -> Iterator:
    """Build and test the marts in schema `marts`; each table is swapped in atomically by dbt."""
    os.environ.update(dbt_environment(gold.url))  # the profile reads NOVA_GOLD_PG_*, derived from one URL
    results = []
    invocation = dbt_gold.cli(["build"], context=context)
    for event in invocation.stream():
        if isinstance(event, dg.AssetCheckResult):
            results.append(event)
        yield event
    prune_run_targets(invocation.target_path)
    _record_checks(context.run_id, gold, results)


def _record_checks(run_id: str, gold: PostgresResource, results: list[dg.AssetCheckResult]) -> None:
    if not results:
        return
    rows = [
        (
            run_id,
            r.asset_key.to_user_string() if r.asset_key else "",
            r.check_name or "",
            r.passed,
            str(r.severity.value) if r.severity else None,
            json.dumps({k: getattr(v, "value", str(v)) for k, v in (r.metadata or {}).items()}, default=str),
        )
        for r in results
    ]
    with gold_connection(gold) as conn, conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO support.data_quality_results (dagster_run_id, asset_key, check_name, passed, severity,"
            " details) VALUES (%s, %s, %s, %s, %s, %s)",
            rows,
        )
