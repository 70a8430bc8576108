"""The lake's tables are declared once, and an asset reads only what it declares as a dependency."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import yaml

from nova_assets.lib import lake_tables
from nova_assets.lib.forecasting.models import FAMILIES
from nova_assets.lib.lake_tables import ERP_MATERIALS, ERP_SITES, LakeTable
from nova_assets.resources import LakeResource, lake_deps
from tests.unit.test_code_location import load_code_location

ROOT = Path(__file__).resolve().parents[2]


@dg.asset(key_prefix="raw", name="erp_materials")
def materials_writer(lake: LakeResource) -> None:
    lake.write(ERP_MATERIALS, pd.DataFrame({column: ["x"] for column in ERP_MATERIALS.columns}))


@dg.asset(key_prefix="raw", name="erp_sites")
def sites_writer(lake: LakeResource) -> None:
    lake.write(ERP_SITES, pd.DataFrame({column: ["x"] for column in ERP_SITES.columns}))


@dg.asset(deps=lake_deps(ERP_MATERIALS))
def declared_reader(lake: LakeResource) -> None:
    lake.read(ERP_MATERIALS)


@dg.asset(deps=lake_deps(ERP_MATERIALS))
def undeclared_reader(lake: LakeResource) -> None:
    lake.read(ERP_SITES)  # written by raw/erp_sites, not a dependency


@dg.asset
def foreign_writer(lake: LakeResource) -> None:
    lake.write(ERP_SITES, pd.DataFrame({column: ["x"] for column in ERP_SITES.columns}))


def _materialize(tmp_path: Path, *assets: dg.AssetsDefinition, selection: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(assets),
        selection=selection,
        resources={"lake": LakeResource(lake_dir=str(tmp_path))},
        raise_on_error=False,
    )


def test_a_declared_read_runs(tmp_path: Path) -> None:
    assert _materialize(tmp_path, materials_writer, sites_writer, declared_reader, selection="*").success


def test_a_read_of_a_table_the_asset_does_not_depend_on_fails(tmp_path: Path) -> None:
    assert _materialize(tmp_path, materials_writer, sites_writer, selection="*").success
    result = _materialize(tmp_path, materials_writer, sites_writer, undeclared_reader, selection="undeclared_reader")
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.cause.message
    assert "UndeclaredLakeAccess" in message and "raw/erp_sites" in message and "undeclared_reader" in message


def test_a_write_of_another_assets_table_fails(tmp_path: Path) -> None:
    result = _materialize(tmp_path, foreign_writer, selection="*")
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "declared as written by raw/erp_sites" in failure.step_failure_data.error.cause.message


def test_a_write_without_a_declared_column_fails(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="material_id"):
        LakeResource(lake_dir=str(tmp_path)).write(ERP_MATERIALS, pd.DataFrame({"description": ["x"]}))


def test_outside_a_run_reads_are_not_checked(tmp_path: Path) -> None:
    lake = LakeResource(lake_dir=str(tmp_path))
    assert lake.read_if_exists(ERP_SITES) is None
    lake.write(ERP_SITES, pd.DataFrame({column: ["x"] for column in ERP_SITES.columns}))
    assert lake.read(ERP_SITES, ["site_id"])["site_id"].tolist() == ["x"]


def test_every_declared_table_is_written_by_an_asset_of_the_code_location() -> None:
    keys = {key.to_user_string() for key in load_code_location().asset_graph.get_all_asset_keys()}
    tables = lake_tables.declared_tables(list(FAMILIES))
    writers = {str(table): "/".join(table.asset) for table in tables}
    assert {table: writer for table, writer in writers.items() if writer not in keys} == {}
    assert len({table.path for table in tables}) == len(tables), "two declarations of one lake file"


def test_dbt_sources_read_the_declared_raw_tables_under_their_writers_keys() -> None:
    """The dbt feature project reads raw Parquet files in place: each source is a declared table,
    keyed (meta.dagster.asset_key) by the asset that writes it."""
    sources = yaml.safe_load((ROOT / "dbt_project" / "features" / "models" / "staging" / "_sources.yml").read_text())
    (raw,) = [s for s in sources["sources"] if s["name"] == "raw"]
    location = raw["config"]["meta"]["external_location"]
    assert re.sub(r"\{\{.*?\}\}", "LAKE", location) == "LAKE/raw/{name}.parquet"
    for source_table in raw["tables"]:
        table: LakeTable = lake_tables.raw(source_table["name"])
        assert str(table.path) == f"raw/{source_table['name']}.parquet"
        assert source_table["config"]["meta"]["dagster"]["asset_key"] == list(table.asset)
