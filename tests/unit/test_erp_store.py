"""The ERP store: files registered by content hash, tables rebuilt from every accepted file, bad files set aside."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from nova_assets.lib.lake_tables import raw
from nova_assets.lib.sources import erp_store
from nova_assets.lib.sources.erp_files import empty_table
from nova_assets.lib.sources.erp_import import published_provenance, reason_summary
from nova_assets.lib.sources.erp_store import NO_FILES, ErpProvenance, ErpStore, most_synthetic
from nova_assets.lib.sources.landing import REASON_SUFFIX, landing_files
from nova_assets.lib.sources.quality import BUILT_FROM, write_status

MOVEMENTS = "movement_date,material_id,site_id,movement_type,quantity\n"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing" / "erp"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def store(tmp_path: Path) -> ErpStore:
    return ErpStore(tmp_path / "lake" / "bronze" / "erp")


def drop(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_file_is_loaded_once_whatever_it_is_called(landing: Path, store: ErpStore) -> None:
    drop(landing, "movements.csv", MOVEMENTS + "2025-11-01,MAT-1,WH-1,issue,2\n")
    first = store.ingest(landing)
    assert [f.file_name for f in first.loaded] == ["movements.csv"]
    drop(landing, "consumo_copia.csv", MOVEMENTS + "2025-11-01,MAT-1,WH-1,issue,2\n")  # same bytes
    second = store.ingest(landing)
    assert second.loaded == [] and second.rejected == []
    assert sorted(second.skipped) == [
        "consumo_copia.csv (same content as movements.csv)",
        "movements.csv (same content as movements.csv)",
    ]
    assert len(store.files()) == 1
    assert store.build_table("erp_movements")["quantity"].tolist() == [2.0]


def test_accepted_files_are_kept_in_bronze_so_the_landing_folder_can_be_emptied(landing: Path, store: ErpStore):
    path = drop(landing, "movements.csv", MOVEMENTS + "2025-11-01,MAT-1,WH-1,issue,2\n")
    (entry,) = store.ingest(landing).loaded
    kept = store.root / "files" / entry.content_hash / "movements.csv"
    assert kept.read_bytes() == path.read_bytes()
    path.unlink()
    assert store.ingest(landing).loaded == []
    assert store.build_table("erp_movements")["material_id"].tolist() == ["MAT-1"]


def test_movements_from_overlapping_extracts_are_counted_once(landing: Path, store: ErpStore) -> None:
    drop(landing, "movements_2025-10.csv", MOVEMENTS + "2025-10-31,MAT-1,WH-1,issue,2\n2025-11-01,MAT-1,WH-1,issue,3\n")
    store.ingest(landing)
    drop(landing, "movements_2025-11.csv", MOVEMENTS + "2025-11-01,MAT-1,WH-1,issue,3\n2025-11-02,MAT-2,WH-1,issue,1\n")
    store.ingest(landing)
    table = store.build_table("erp_movements")
    assert table[["movement_date", "quantity", "source_file"]].values.tolist() == [
        [date(2025, 10, 31), 2.0, "movements_2025-10.csv"],  # before the newer file's window: kept
        [date(2025, 11, 1), 3.0, "movements_2025-11.csv"],  # in it: the newer file's row replaces it
        [date(2025, 11, 2), 1.0, "movements_2025-11.csv"],
    ]


def test_a_corrected_reexport_without_ids_replaces_its_window_not_adds_to_it(landing: Path, store: ErpStore):
    days = ("2025-11-01", "2025-11-02", "2025-11-03")
    drop(
        landing,
        "movements_nov.csv",
        MOVEMENTS
        + "".join(f"{day},MAT-1,{site},issue,{qty}\n" for day in days for site, qty in (("WH-1", 5), ("TWR-1", 1)))
        + "2025-11-02,MAT-1,WH-1,receipt,40\n",
    )
    store.ingest(landing)
    # the ERP corrects Nov 2-3 at WH-1 (one issue was keyed twice as much, one is dropped) and re-exports
    drop(
        landing,
        "movements_nov_corrigido.csv",
        MOVEMENTS + "2025-11-02,MAT-1,WH-1,issue,2\n2025-11-03,MAT-1,WH-1,issue,6\n",
    )
    store.ingest(landing)
    table = store.build_table("erp_movements")
    issues = table[table["movement_type"] == "issue"]
    by_site = issues.groupby("site_id")["quantity"].sum().to_dict()
    assert by_site == {"WH-1": 5 + 2 + 6, "TWR-1": 3}  # not 5+5+5+2+6: nothing counted twice
    wh = issues[issues["site_id"] == "WH-1"].sort_values("movement_date")
    assert wh[["quantity", "source_file"]].values.tolist() == [
        [5.0, "movements_nov.csv"],
        [2.0, "movements_nov_corrigido.csv"],
        [6.0, "movements_nov_corrigido.csv"],
    ]
    # other sites and other movement types in the window are not the corrected file's business
    assert table[table["movement_type"] == "receipt"]["quantity"].tolist() == [40.0]


def test_a_reexport_with_document_numbers_replaces_those_documents(landing: Path, store: ErpStore) -> None:
    header = "documento," + MOVEMENTS
    drop(
        landing,
        "movements_1.csv",
        header + "D1,2025-11-01,MAT-1,WH-1,issue,5\nD2,2025-11-01,MAT-1,WH-1,issue,5\n"
        "D3,2025-11-02,MAT-1,WH-1,issue,1\n",
    )
    store.ingest(landing)
    # a delta: only the corrected document D2 (and a new D4); D1 and D3 are not re-sent and stay
    drop(landing, "movements_2.csv", header + "D2,2025-11-01,MAT-1,WH-1,issue,3\nD4,2025-11-03,MAT-1,WH-1,issue,7\n")
    store.ingest(landing)
    table = store.build_table("erp_movements").set_index("movement_id")
    assert table["quantity"].to_dict() == {"D1": 5.0, "D3": 1.0, "D2": 3.0, "D4": 7.0}
    assert table.loc["D2", "source_file"] == "movements_2.csv"
    # D1 and D2 share every business value: with document numbers they are two movements, not one
    assert table["quantity"].sum() == 16.0


def test_the_latest_purchase_order_history_wins_per_order_line(landing: Path, store: ErpStore) -> None:
    header = "po_id,material_id,supplier_id,quantity,order_date,promised_date\n"
    drop(
        landing,
        "purchase_order_history.csv",
        header + "P1,MAT-1,S1,10,2025-10-01,2025-10-08\nP2,MAT-1,S1,4,2025-10-06,2025-10-13\n",
    )
    store.ingest(landing)
    drop(landing, "historico_pedidos_2.csv", header + "P1,MAT-1,S1,10,2025-10-01,2025-10-20\n")
    store.ingest(landing)
    table = store.build_table("erp_purchase_orders")
    assert table[["po_id", "promised_date"]].values.tolist() == [["P1", date(2025, 10, 20)], ["P2", date(2025, 10, 13)]]


def test_a_newer_master_file_wins_per_key_and_keeps_the_others(landing: Path, store: ErpStore) -> None:
    drop(landing, "materials.csv", "material_id,description,unit_cost\nMAT-1,Old name,10\nMAT-2,Kept,5\n")
    store.ingest(landing)
    drop(landing, "materials_v2.csv", "material_id,description,unit_cost\nMAT-1,New name,12\n")
    store.ingest(landing)
    table = store.build_table("erp_materials")
    assert table[["material_id", "description", "unit_cost"]].values.tolist() == [
        ["MAT-1", "New name", 12.0],
        ["MAT-2", "Kept", 5.0],
    ]


def test_the_newest_open_orders_file_is_the_current_list(landing: Path, store: ErpStore) -> None:
    header = "po_id,material_id,quantity,expected_date\n"
    drop(landing, "open_orders_1.csv", header + "PO-1,MAT-1,5,2025-12-01\nPO-2,MAT-2,1,2025-12-02\n")
    store.ingest(landing)
    drop(landing, "open_orders_2.csv", header)  # every PO received: an empty list is a valid export
    report = store.ingest(landing)
    assert [f.file_name for f in report.loaded] == ["open_orders_2.csv"] and report.rejected == []
    assert store.build_table("erp_open_orders").empty


def test_unreadable_file_is_moved_aside_with_its_reason(landing: Path, store: ErpStore) -> None:
    drop(landing, "movements.csv", MOVEMENTS + "2025-11-01,MAT-1,WH-1,issue,2\n")
    store.ingest(landing)
    before = store.build_table("erp_movements")
    drop(landing, "movimentos_nov.csv", "data;material;quantidade\n01/11/2025;MAT-1;2\n")  # no site column
    report = store.ingest(landing)
    (rejected,) = report.rejected
    assert rejected.reason == (
        "movimentos_nov.csv: missing required column(s): site_id (found: data, material, quantidade)"
    )
    moved = landing / "rejected" / "movimentos_nov.csv"
    assert rejected.moved_to == str(moved) and moved.exists() and not (landing / "movimentos_nov.csv").exists()
    reason_file = moved.with_name(moved.name + REASON_SUFFIX).read_text(encoding="utf-8")
    assert "missing required column(s): site_id" in reason_file
    assert f"file: {moved}\ndropped as: {landing / 'movimentos_nov.csv'}\n" in reason_file  # where it is, where from
    assert report.errors() == [f"ERP file movimentos_nov.csv rejected: {rejected.reason} (moved to {moved})"]
    pd.testing.assert_frame_equal(store.build_table("erp_movements"), before)
    assert [f.file_name for f in store.files()] == ["movements.csv"]
    assert store.rejected_files()["file_name"].tolist() == ["movimentos_nov.csv"]
    assert moved not in landing_files(landing)  # never read again
    assert store.ingest(landing).rejected == []


def test_a_file_whose_every_row_is_bad_is_rejected_not_loaded(landing: Path, store: ErpStore) -> None:
    drop(landing, "movements.csv", MOVEMENTS + "2025-11-01,MAT-1,WH-1,issue,-2\nnot-a-date,MAT-1,WH-1,issue,1\n")
    (rejected,) = store.ingest(landing).rejected
    assert rejected.reason.startswith("movements.csv: no valid row (2 rows quarantined, e.g. line 2: negative quantity")
    assert store.files() == [] and store.build_table("erp_movements") is None


def test_quarantine_keeps_file_line_and_reason_across_runs(landing: Path, store: ErpStore) -> None:
    drop(landing, "movements.csv", MOVEMENTS + "2025-11-01,MAT-1,WH-1,issue,2\n2025-11-01,MAT-1,WH-1,issue,abc\n")
    store.ingest(landing)
    store.ingest(landing)
    quarantine = store.quarantine()
    assert quarantine[["table", "source_file", "line_number", "reason"]].values.tolist() == [
        ["erp_movements", "movements.csv", 3, "non-numeric quantity: 'abc'"]
    ]


def test_a_new_parser_version_replays_the_bronze_copies(
    landing: Path, store: ErpStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop(landing, "movements.csv", MOVEMENTS + "2025-11-01,MAT-1,WH-1,issue,2\n")
    store.ingest(landing)
    (landing / "movements.csv").unlink()  # only the bronze copy is left
    monkeypatch.setattr(erp_store, "PARSER_VERSION", erp_store.PARSER_VERSION + 1)
    report = store.ingest(landing)
    assert report.replayed == ["movements.csv"]
    assert [f.parser_version for f in store.files()] == [erp_store.PARSER_VERSION]
    assert store.build_table("erp_movements")["quantity"].tolist() == [2.0]


def test_names_of_no_table_are_ignored_not_moved(landing: Path, store: ErpStore) -> None:
    drop(landing, "leia-me.txt", "notes")
    report = store.ingest(landing)
    assert report.ignored == ["leia-me.txt"] and (landing / "leia-me.txt").exists()


def test_empty_table_has_the_contract_columns() -> None:
    frame = empty_table("erp_movements")
    assert frame.columns.tolist() == [
        "movement_date", "material_id", "site_id", "movement_type", "quantity", "movement_id", "po_id",
        "source_file",
    ]  # fmt: skip
    assert frame["quantity"].dtype == "float64" and frame.empty


def test_rows_parsed_before_a_column_was_added_get_it_empty(landing: Path, store: ErpStore) -> None:
    drop(landing, "movements.csv", MOVEMENTS + "2025-11-01,MAT-1,WH-1,issue,2\n")
    (entry,) = store.ingest(landing).loaded
    parsed = store.root / "parsed" / f"{entry.content_hash}.good.parquet"
    pd.read_parquet(parsed).drop(columns=["movement_id", "po_id"]).to_parquet(parsed)  # as an older parser wrote it
    table = store.build_table("erp_movements")
    assert table.columns.tolist() == empty_table("erp_movements").columns.tolist()
    assert table[["quantity", "movement_id", "po_id"]].values.tolist() == [[2.0, None, None]]


def test_the_published_tables_record_says_what_they_are_built_from(tmp_path: Path) -> None:
    """Each raw ERP table's status carries the count of its files: their sum is the lake's provenance; a
    table never published is not counted; one published before tables carried a record sends the reader
    to the ERP store's record instead."""
    lake_dir = tmp_path / "lake"

    def published(table: str, status: dict) -> None:
        write_status(lake_dir, table, status)
        path = lake_dir / raw(table).path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")

    published("erp_movements", {BUILT_FROM: {"files": 3, "synthetic": 2, "unrecorded": 0}})
    published("erp_materials", {BUILT_FROM: {"files": 1, "synthetic": 0, "unrecorded": 1}})
    write_status(lake_dir, "erp_sites", {"written": False})  # blocked on its first build: no table in the lake
    assert published_provenance(lake_dir) == ErpProvenance(files=4, synthetic=2, unrecorded=1)
    published("erp_stock", {"written": True})  # written by a release before the record existed
    assert published_provenance(lake_dir) == ErpStore.in_lake(lake_dir).provenance() == NO_FILES


def test_figures_are_labelled_by_the_least_real_record_of_their_inputs() -> None:
    real, mixed, unknown = ErpProvenance(5, 0, 0), ErpProvenance(10, 7, 0), ErpProvenance(4, 0, 4)
    assert most_synthetic(real, mixed) == most_synthetic(mixed, real) == mixed
    assert most_synthetic(real, unknown) == unknown


@pytest.mark.parametrize(
    ("record", "sentence"),
    [
        (ErpProvenance(5, 0, 0), "ERP exports: 5 files, none from the generated sample; but the landing folder holds"),
        (NO_FILES, "no ERP file loaded; but the landing folder holds"),
        (ErpProvenance(10, 7, 0), "partly SYNTHETIC: 7 of the 10 ERP files"),
        (ErpProvenance(3, 3, 0), "SYNTHETIC sample: the tables are built from 3 ERP files, all generated"),
    ],
)
def test_the_sentence_is_synthetic_whenever_the_label_is(record: ErpProvenance, sentence: str) -> None:
    """A landing folder with the sample's note makes the banner and /health's `synthetic` say SYNTHETIC
    (synthetic_share); the sentence beside them must not read as real exports alone."""
    assert record.synthetic_share(landing_is_sample=True) is not None
    described = record.describe(landing_is_sample=True)
    assert described.startswith(sentence), described
    assert record.describe() == record.describe(landing_is_sample=False)
    assert "landing folder" not in record.describe()


def test_quarantine_reasons_are_counted_per_kind_not_per_code() -> None:
    quarantine = pd.DataFrame(
        {
            "source_file": ["m.csv"] * 6,
            "line_number": [2, 3, 4, 5, 6, 7],
            "reason": [
                "unknown material_id: MAT-404 (not in erp_materials; it loads once erp_materials has it)",
                "unknown material_id: MAT-405 (not in erp_materials; it loads once erp_materials has it)",
                "movement_date outside 2000-01-01..2025-11-11: 2206-11-10 (the cycle's as-of date is 2025-11-11)",
                "duplicate material_id: 'MAT-1' (first at line 2)",
                "duplicate material_id: 'MAT-2' (first at line 3)",
                "missing quantity; bad date in movement_date: '31/02/2025'",
            ],
        }
    )
    kinds = {item["reason"]: item["rows"] for item in reason_summary(quarantine)}
    assert kinds == {
        "unknown material_id": 2,
        "duplicate material_id": 2,
        "movement_date outside 2000-01-01..2025-11-11": 1,
        "missing quantity": 1,
    }
