"""The gold/purchase_orders asset in process: PO lines linked to the receipts that name them,
upserted idempotently; a lake without the PO export (or without po_id on receipts) loads nothing
and says why, without failing the cycle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg
import pytest

from nova_assets.defs.gold.analytics.assets import purchase_orders
from nova_assets.lib import lake
from nova_assets.lib.lake_tables import DAILY_DEMAND
from nova_assets.resources import LakeResource, PostgresResource
from tests.integration.test_gold_marts import C2, hand_made_purchase_orders, load_sample_gold


@pytest.fixture
def setup(gold_url: str, tmp_path: Path) -> dict:
    with psycopg.connect(gold_url) as conn:
        load_sample_gold(conn)
    orders, movements = hand_made_purchase_orders()
    demand = pd.DataFrame({"material_id": "M1", "date": [C2 - dt.timedelta(days=1), C2], "demand": [1.0, 0.0]})
    lake.write_table(tmp_path, DAILY_DEMAND.layer, DAILY_DEMAND.name, demand)
    lake.write_table(tmp_path, "raw", "erp_movements", movements)
    return {"url": gold_url, "lake": tmp_path, "orders": orders, "movements": movements}


def _materialize(setup: dict) -> dg.MaterializeResult:
    result = dg.materialize(
        [purchase_orders],
        resources={"lake": LakeResource(lake_dir=str(setup["lake"])), "gold": PostgresResource(url=setup["url"])},
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    return event.materialization.metadata


def _cycle_on(setup: dict, day: dt.date) -> None:
    demand = pd.DataFrame({"material_id": "M1", "date": [day - dt.timedelta(days=1), day], "demand": [1.0, 0.0]})
    lake.write_table(setup["lake"], DAILY_DEMAND.layer, DAILY_DEMAND.name, demand)


def _written_by(url: str) -> dict[tuple[str, str], tuple]:
    """Each line's as_of_date and the transaction that last wrote it (xmin)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT po_id, material_id, as_of_date, xmin::text FROM analytics.purchase_orders")
        return {(r[0], r[1]): r[2:] for r in rows}


def _as_of(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT as_of_date FROM analytics.purchase_orders_as_of").fetchall()


def _keys_and_indexes(url: str) -> set[tuple]:
    with psycopg.connect(url) as conn:
        keys = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint"
            " WHERE conrelid = 'analytics.purchase_orders'::regclass"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef, NULL FROM pg_indexes WHERE schemaname = 'analytics'"
            " AND tablename = 'purchase_orders'"
        ).fetchall()
    return set(keys) | set(indexes)


def _lines(url: str) -> dict[tuple[str, str], tuple]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT po_id, material_id, supplier_id, received_date, received_quantity, receipts, as_of_date"
            " FROM analytics.purchase_orders"
        ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_po_lines_are_linked_to_their_receipts_idempotently(setup: dict) -> None:
    stray = pd.DataFrame(  # a site and a supplier the gold layer does not know: kept, without them
        [("PO30", "M3", "S9", "T9", 1.0, dt.date(2025, 1, 2), dt.date(2025, 1, 30))], columns=setup["orders"].columns
    )
    lake.write_table(setup["lake"], "raw", "erp_purchase_orders", pd.concat([setup["orders"], stray]))
    metadata = _materialize(setup)
    assert metadata["rows"].value == 9
    assert (metadata["lines_received"].value, metadata["lines_open"].value) == (5, 4)
    assert metadata["lines_open_past_promise"].value == 2  # PO13, PO21
    assert (metadata["unknown_site_id_blanked"].value, metadata["unknown_supplier_id_blanked"].value) == (1, 1)
    first = _lines(setup["url"])
    assert first[("PO10", "M1")] == ("S1", dt.date(2025, 1, 9), 5.0, 2, C2)  # first of two receipts
    assert first[("PO20", "M4")][1:4] == (dt.date(2024, 12, 28), 2.0, 1)  # the PO's other line apart
    assert first[("PO21", "M4")][1:4] == (None, 0.0, 0)  # its receipt is after the cycle
    assert first[("PO13", "M2")][0] is None  # no supplier in the export: the mart uses the material's
    assert first[("PO30", "M3")][0] is None
    _materialize(setup)
    assert _lines(setup["url"]) == first


@pytest.mark.parametrize("gap", ["no_po_table", "empty_po_table", "no_po_id_on_movements"])
def test_without_po_links_nothing_is_loaded_and_the_cycle_goes_on(setup: dict, gap: str) -> None:
    if gap == "empty_po_table":
        lake.write_table(setup["lake"], "raw", "erp_purchase_orders", setup["orders"].iloc[0:0])
    if gap == "no_po_id_on_movements":
        lake.write_table(setup["lake"], "raw", "erp_purchase_orders", setup["orders"])
        lake.write_table(setup["lake"], "raw", "erp_movements", setup["movements"].drop(columns="po_id"))
    metadata = _materialize(setup)
    assert metadata["rows"].value == 0
    expected = {"no_po_table": "not in the lake", "empty_po_table": "is empty", "no_po_id_on_movements": "no po_id"}
    assert expected[gap] in metadata["note"].value
    assert _lines(setup["url"]) == {}


def test_a_later_cycle_rewrites_only_the_lines_that_changed(setup: dict) -> None:
    lake.write_table(setup["lake"], "raw", "erp_purchase_orders", setup["orders"])
    schema = _keys_and_indexes(setup["url"])
    assert sum(1 for name, *_ in schema if name.endswith("_fkey")) == 3 and len(schema) >= 8
    assert _materialize(setup)["rows_written"].value == 8  # the first load: into the empty table
    assert _keys_and_indexes(setup["url"]) == schema  # its keys and indexes dropped for it, re-created valid
    first = _written_by(setup["url"])
    assert _as_of(setup["url"]) == [(C2,)]

    assert _materialize(setup)["rows_written"].value == 0  # the same cycle again: nothing changed
    assert _written_by(setup["url"]) == first

    later = C2 + dt.timedelta(days=5)  # PO21's receipt of 01-15 is now known; PO12's quantity corrected
    _cycle_on(setup, later)
    orders = setup["orders"].copy()
    orders.loc[orders["po_id"] == "PO12", "quantity"] = 6.0
    lake.write_table(setup["lake"], "raw", "erp_purchase_orders", orders)
    metadata = _materialize(setup)
    assert (metadata["rows"].value, metadata["rows_written"].value) == (8, 2)
    after = _written_by(setup["url"])
    changed = {line for line in after if after[line] != first[line]}
    assert changed == {("PO21", "M4"), ("PO12", "M1")}
    assert {after[line][0] for line in changed} == {later}
    assert after[("PO10", "M1")] == first[("PO10", "M1")] == (C2, first[("PO10", "M1")][1])  # not rewritten
    assert _lines(setup["url"])[("PO21", "M4")][1:4] == (dt.date(2025, 1, 15), 1.0, 1)
    assert _as_of(setup["url"]) == [(later,)]  # the table is current to the later cycle
    assert _keys_and_indexes(setup["url"]) == schema


def test_an_unknown_material_fails_the_first_load_and_loses_nothing(setup: dict) -> None:
    stray = pd.DataFrame(
        [("PO40", "M9", "S1", "WH", 1.0, dt.date(2025, 1, 2), dt.date(2025, 1, 30))], columns=setup["orders"].columns
    )
    lake.write_table(setup["lake"], "raw", "erp_purchase_orders", pd.concat([setup["orders"], stray]))
    schema = _keys_and_indexes(setup["url"])
    result = dg.materialize(
        [purchase_orders],
        resources={"lake": LakeResource(lake_dir=str(setup["lake"])), "gold": PostgresResource(url=setup["url"])},
        raise_on_error=False,
    )
    assert not result.success
    assert "purchase_orders_material_id_fkey" in str(result.get_step_failure_events()[0].event_specific_data.error)
    assert _lines(setup["url"]) == {} and _as_of(setup["url"]) == []
    assert _keys_and_indexes(setup["url"]) == schema
