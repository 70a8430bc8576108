"""dbt models on DuckDB: staging, daily demand with explicit zeros, and the feature table."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from nova_assets.defs.transform.dbt_project import dbt_project


class LayerTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "transform"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayerTranslator(),
    pool="duckdb",
)
def dbt_features(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Build and test every dbt model; dbt tests report as asset checks."""
    yield from dbt.cli(["build"], context=context).stream()
