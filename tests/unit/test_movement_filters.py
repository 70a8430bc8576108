"""The gold steps read only the ERP movements their domain function uses (row filters of the lake
read, which skip the years before; DuckDB's scan for the PO link): each result must be what the whole
history gives. A function that starts using older rows, or other movement types, fails here until its
filter says so."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from nova_assets.lib import lake
from nova_assets.lib.analytics.clustering import tower_features, tower_movements
from nova_assets.lib.analytics.site_inventory import recent_movements, site_inventory
from nova_assets.lib.delivery.report_pdf import history_movements, stock_history
from nova_assets.lib.gold.purchase_orders import link_lake_receipts, link_receipts
from nova_assets.lib.sample.erp_generator import generate_sample_business
from nova_assets.lib.sources.erp_tables import STOCK_MOVEMENT_COLUMNS

AS_OF = pd.Timestamp("2025-06-30")


@pytest.fixture(scope="module")
def business(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pd.DataFrame]]:
    """Two and a half years of a small synthetic business, movements in the lake sorted by date
    (as the ERP import writes them)."""
    folder = tmp_path_factory.mktemp("filters")
    paths = generate_sample_business(folder, n_materials=60, n_sites=5, start=date(2023, 1, 1), end=date(2025, 7, 31))
    tables = {name: pd.read_csv(path) for name, path in paths.items() if path.suffix == ".csv"}
    movements = tables["movements"].assign(movement_date=lambda f: pd.to_datetime(f["movement_date"]).dt.date)
    lake_dir = folder / "lake"
    lake.write_table(lake_dir, "raw", "erp_movements", movements.sort_values("movement_date", ignore_index=True))
    return lake_dir, tables


def _movements(lake_dir: Path, columns: list[str], filters: lake.RowFilters | None = None) -> pd.DataFrame:
    return lake.read_table(lake_dir, "raw", "erp_movements", columns, filters)


def _site_inventory(movements: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    lead_times = tables["materials"].merge(tables["suppliers"], on="supplier_id").set_index("material_id")
    return site_inventory(
        movements, tables["stock_on_hand"], lead_times["lead_time_mean_days"], tables["open_orders"], AS_OF
    )


def _tower_features(movements: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    unit_cost = tables["materials"].set_index("material_id")["unit_cost"]
    return tower_features(movements, tables["sites"], unit_cost, None, AS_OF)


def _stock_history(movements: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return stock_history(tables["stock_on_hand"], movements, sorted(tables["materials"]["material_id"]))


@pytest.mark.parametrize(
    ("filters", "compute", "at_most"),
    [
        (lambda tables: recent_movements(AS_OF), _site_inventory, 1 / 4),
        (lambda tables: tower_movements(AS_OF), _tower_features, 1 / 2),
        (lambda tables: history_movements(tables["stock_on_hand"]), _stock_history, 1 / 8),
    ],
    ids=["site inventory: the last 90 days", "tower features: the last year's issues", "report: two months"],
)
def test_a_step_needs_only_the_movements_of_its_filters(
    business: tuple[Path, dict[str, pd.DataFrame]],
    filters: Callable[[dict[str, pd.DataFrame]], lake.RowFilters],
    compute: Callable[[pd.DataFrame, dict[str, pd.DataFrame]], pd.DataFrame],
    at_most: float,
) -> None:
    lake_dir, tables = business
    filters = filters(tables)
    kept = _movements(lake_dir, STOCK_MOVEMENT_COLUMNS, filters)
    everything = _movements(lake_dir, STOCK_MOVEMENT_COLUMNS)
    assert len(kept) < len(everything) * at_most
    pd.testing.assert_frame_equal(compute(kept, tables), compute(everything, tables))


def test_purchase_order_lines_linked_in_the_lake_are_those_of_the_whole_history(
    business: tuple[Path, dict[str, pd.DataFrame]],
) -> None:
    """The gold step links the lines in DuckDB over the lake's files (LakeResource.scan), which reads
    only the receipts: the result is link_receipts on every movement in pandas."""
    lake_dir, tables = business
    orders = tables["purchase_order_history"]
    lake.write_table(lake_dir, "raw", "erp_purchase_orders", orders)
    everything = _movements(lake_dir, [*STOCK_MOVEMENT_COLUMNS, "po_id"])
    linked = link_receipts(orders, everything, AS_OF.date())
    assert linked["receipts"].sum() > 0 and linked["received_date"].isna().any()
    with duckdb.connect() as con:
        scanned = link_lake_receipts(
            con,
            lake.scan_table(con, lake_dir, "raw", "erp_purchase_orders"),
            lake.scan_table(con, lake_dir, "raw", "erp_movements"),
            AS_OF.date(),
        )
    pd.testing.assert_frame_equal(scanned, linked)
