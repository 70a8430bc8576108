"""The ERP raw assets, materialized in process on a temporary lake: incremental, lossless, checked.

A small clean business is loaded once (module fixture); each test copies that state and drops
more files, so every case starts from "yesterday's good tables" and proves they survive.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from nova_assets.defs.ingest.checks import check_specs
from nova_assets.lib.sample import SYNTHETIC_MARKER
from nova_assets.lib.sources.erp_files import ERP_TABLES, MAX_LINE_CHARS
from nova_assets.lib.sources.erp_import import reason_summary
from nova_assets.lib.sources.erp_store import ErpStore
from nova_assets.lib.sources.landing import REASON_SUFFIX
from tests.integration.ingest_support import ErpLakehouse, checks, failed_checks, metadata

HEADER = "movement_date,material_id,site_id,movement_type,quantity\n"
BUSINESS = {
    "materials.csv": "material_id,description,unit_cost,supplier_id\nMAT-1,Conector SC/APC,10,SUP-1\n"
    "MAT-2,Cabo drop 2F,5.5,SUP-1\n",
    "sites.csv": "site_id,site_name,site_type\nWH-1,Almoxarifado Central,warehouse\nTWR-1,ERB Salvador 01,tower\n",
    "suppliers.csv": "supplier_id,supplier_name,lead_time_mean_days,lead_time_std_days\nSUP-1,Fornecedor A,10,2\n",
    "movements.csv": HEADER
    + "".join(f"2025-11-{day:02d},MAT-{day % 2 + 1},WH-1,issue,{day}\n" for day in range(1, 11)),
    "stock_on_hand.csv": "snapshot_date,material_id,site_id,on_hand\n"
    "2025-11-10,MAT-1,WH-1,4\n2025-11-10,MAT-2,WH-1,0\n",
    "open_orders.csv": "po_id,material_id,supplier_id,quantity,order_date,expected_date\n"
    "PO-1,MAT-1,SUP-1,5,2025-11-01,2025-11-20\n",
    "historico_pedidos.csv": "pedido;material;fornecedor;deposito;quantidade;data_pedido;data_prometida\n"
    "PO-0;MAT-2;SUP-1;WH-1;8;20/10/2025;30/10/2025\nPO-1;MAT-1;SUP-1;WH-1;5;01/11/2025;11/11/2025\n",
}


def data_line(result: dg.ExecuteInProcessResult) -> str:
    """The import report's "Data:" line: what the published tables are built from."""
    return metadata(result, "quarantine", "erp_rows")["import_report"]["data"]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> ErpLakehouse:
    house = ErpLakehouse(tmp_path_factory.mktemp("erp_baseline"))
    house.landing.mkdir(parents=True)
    for name, text in BUSINESS.items():
        house.drop(name, text)
    result = house.run()
    assert result.success
    return house


@pytest.fixture
def house(loaded: ErpLakehouse, tmp_path: Path) -> ErpLakehouse:
    """Yesterday's state: the baseline business already loaded, copied for one test."""
    shutil.copytree(loaded.root, tmp_path / "house")
    return ErpLakehouse(tmp_path / "house")


def test_a_clean_business_loads_every_table_and_passes_every_check(loaded: ErpLakehouse) -> None:
    result = loaded.run()  # a re-run of the baseline, so the fixture's lake is not changed
    assert result.success
    for table in ERP_TABLES:
        assert failed_checks(result, table) == {}, table
        assert metadata(result, "raw", table)["quality_score"] == 1.0
    assert len(loaded.raw("erp_movements")) == 10 and loaded.quarantine().empty
    assert data_line(result) == "ERP exports: 7 files, none from the generated sample"
    orders = loaded.raw("erp_purchase_orders")
    assert orders[["po_id", "site_id", "promised_date"]].astype(str).values.tolist() == [
        ["PO-0", "WH-1", "2025-10-30"],
        ["PO-1", "WH-1", "2025-11-11"],
    ]


def test_the_samples_files_stay_synthetic_after_real_exports_join_them(tmp_path: Path) -> None:
    """A demo first, then real exports dropped beside it: the tables are built from both, and say so."""
    house = ErpLakehouse(tmp_path)
    house.landing.mkdir(parents=True)
    marker = house.root / "landing" / SYNTHETIC_MARKER  # as the sample generator leaves it
    marker.write_text("generated\n")
    for name, text in BUSINESS.items():
        house.drop(name, text)
    first = house.run()
    assert data_line(first) == ("SYNTHETIC sample: the tables are built from 7 ERP files, all generated")
    marker.unlink()  # the user's own exports from now on
    house.drop("movements_novembro.csv", HEADER + "2025-11-11,MAT-1,WH-1,issue,3\n")
    second = house.run()
    assert second.success
    assert data_line(second).startswith(
        "partly SYNTHETIC: 7 of the 8 ERP files the tables are built from are the generated sample's"
    )


def test_a_blocked_rebuild_keeps_the_provenance_of_the_table_it_keeps(tmp_path: Path) -> None:
    """The label follows the tables published, not the files in the store: a real export that a blocking
    check holds out of the movements leaves them the sample's alone."""
    house = ErpLakehouse(tmp_path)
    house.landing.mkdir(parents=True)
    marker = house.root / "landing" / SYNTHETIC_MARKER
    marker.write_text("generated\n")
    for name, text in BUSINESS.items():
        house.drop(name, text)
    assert house.run().success
    marker.unlink()
    house.drop("movements_new_item.csv", HEADER + "2025-11-11,MAT-9,WH-1,issue,1\n")  # MAT-9: not in the master
    blocked = house.run()
    assert metadata(blocked, "raw", "erp_movements")["status"].startswith("NOT WRITTEN")
    assert metadata(blocked, "raw", "erp_movements")["sample_files"] == 1  # of the 2 the rebuild tried
    assert data_line(blocked) == "SYNTHETIC sample: the tables are built from 7 ERP files, all generated"
    house.drop("materials_2025-11-11.csv", "material_id,description,supplier_id\nMAT-9,Antena 5G,SUP-1\n")
    assert house.run().success
    assert data_line(house.run()).startswith("partly SYNTHETIC: 7 of the 9 ERP files the tables are built from")


def test_files_loaded_before_their_origin_was_recorded_are_not_called_real(house: ErpLakehouse) -> None:
    manifest = ErpStore.in_lake(house.lake_dir).root / "manifest.json"
    entries = json.loads(manifest.read_text())
    for entry in entries["files"]:
        del entry["synthetic"]  # a store written before the field existed
    manifest.write_text(json.dumps(entries))
    unmarked = house.run()
    assert data_line(unmarked) == (
        "7 ERP files, none recorded as the generated sample's; 7 loaded before the store recorded it, their "
        "origin unknown"
    )
    (house.root / "landing" / SYNTHETIC_MARKER).write_text("generated\n")  # a demo's landing folder
    marked = house.run()
    assert data_line(marked) == ("SYNTHETIC sample: the tables are built from 7 ERP files, all generated")


def test_a_corrected_reexport_replaces_the_days_it_covers(house: ErpLakehouse) -> None:
    # the baseline has one issue a day at WH-1 (quantity = day); the ERP re-exports Nov 5-10 corrected to 1 each
    house.drop(
        "movements_corrigido.csv",
        HEADER + "".join(f"2025-11-{day:02d},MAT-{day % 2 + 1},WH-1,issue,1\n" for day in range(5, 11)),
    )
    result = house.run()
    assert result.success and failed_checks(result, "erp_movements") == {}
    movements = house.raw("erp_movements")
    assert len(movements) == 10
    assert movements["quantity"].sum() == (1 + 2 + 3 + 4) + 6  # not 55 + 6: the re-export is not added
    corrected = movements[movements["movement_date"].astype(str) >= "2025-11-05"]
    assert set(corrected["source_file"]) == {"movements_corrigido.csv"} and set(corrected["quantity"]) == {1.0}


def test_rerun_and_redropped_files_load_nothing_twice(house: ErpLakehouse) -> None:
    before = {table: house.raw(table) for table in ERP_TABLES}
    manifest = (Path(house.lake_dir) / "bronze" / "erp" / "manifest.json").read_text()
    shutil.copy(house.landing / "movements.csv", house.landing / "consumo_reenviado.csv")
    result = house.run()
    assert result.success
    info = metadata(result, "raw", "erp_movements")
    assert info["files_new"] == []
    assert "consumo_reenviado.csv (same content as movements.csv)" in info["files_already_loaded"]
    for table in ERP_TABLES:
        pd.testing.assert_frame_equal(house.raw(table), before[table])
    assert (Path(house.lake_dir) / "bronze" / "erp" / "manifest.json").read_text() == manifest


def test_a_new_file_adds_its_rows_to_the_previous_ones(house: ErpLakehouse) -> None:
    house.drop("movements_2025-11-11.csv", HEADER + "2025-11-11,MAT-2,TWR-1,issue,7\n")
    result = house.run()
    assert result.success
    movements = house.raw("erp_movements")
    assert len(movements) == 11
    assert movements["source_file"].value_counts().to_dict() == {"movements.csv": 10, "movements_2025-11-11.csv": 1}


@dataclass(frozen=True)
class Malformed:
    """A bad file, and what must happen: rows quarantined (line -> reason) or the file rejected (reason)."""

    name: str
    data: Callable[[], bytes]
    loaded_rows: int = 0
    quarantined: dict[int, str] | None = None
    rejected: str | None = None


def _text(text: str, encoding: str = "utf-8") -> Callable[[], bytes]:
    return lambda: text.encode(encoding)


MALFORMED = [
    Malformed(
        "movimentos_ptbr.csv",  # Brazilian export: ';' separator, ',' decimals, dd/mm/yyyy, Portuguese headers
        _text("Data;Código do Material;Depósito;Tipo;Quantidade\n11/11/2025;MAT-1;WH-1;saída;1,5\n"),
        loaded_rows=1,
    ),
    Malformed(
        "movimentacao_latin1.csv",
        _text("Data;Código do Material;Depósito;Quantidade\n11/11/2025;MAT-2;WH-1;3\n", "latin-1"),
        loaded_rows=1,
    ),
    Malformed(
        "movements_mixed_separators.csv",  # header with ';', rows with ',': no row can be read
        _text("movement_date;material_id;site_id;movement_type;quantity\n2025-11-11,MAT-1,WH-1,issue,1\n"),
        rejected="no valid row (1 rows quarantined, e.g. line 2: wrong number of fields: expected 5, found 1",
    ),
    Malformed(
        "movements_no_site.csv",
        _text("movement_date,material_id,quantity\n2025-11-11,MAT-1,1\n"),
        rejected="missing required column(s): site_id (found: movement_date, material_id, quantity)",
    ),
    Malformed(
        "movements_bad_dates.csv",
        _text(HEADER + "2025-11-11,MAT-1,WH-1,issue,1\n31/02/2025,MAT-1,WH-1,issue,1\n2025-13-01,MAT-2,WH-1,issue,1\n"),
        loaded_rows=1,
        quarantined={3: "bad date in movement_date: '31/02/2025'", 4: "bad date in movement_date: '2025-13-01'"},
    ),
    Malformed(
        "movements_bad_quantities.csv",
        _text(
            HEADER + "2025-11-11,MAT-1,WH-1,issue,-4\n2025-11-11,MAT-2,WH-1,issue,dez\n2025-11-11,MAT-2,WH-1,issue,2\n"
        ),
        loaded_rows=1,
        quarantined={2: "negative quantity: '-4'", 3: "non-numeric quantity: 'dez'"},
    ),
    Malformed(
        "movements_duplicates.csv",
        _text(HEADER + "2025-11-11,MAT-1,WH-1,issue,1\n2025-11-11,MAT-1,WH-1,issue,1\n"),
        loaded_rows=1,
        quarantined={3: "exact duplicate: the same as line 2"},
    ),
    Malformed("movements_empty.csv", _text(""), rejected="empty file"),
    Malformed(
        "movements_truncated.csv",
        _text(HEADER + "2025-11-11,MAT-1,WH-1,issue,1\n2025-11-11,MAT-2,WH"),
        loaded_rows=1,
        quarantined={3: "wrong number of fields: expected 5, found 3 (truncated or malformed line)"},
    ),
    Malformed(
        "movements_huge_line.csv",
        _text(HEADER + "2025-11-11,MAT-1,WH-1,issue,1\n2025-11-11,MAT-2,WH-1,issue," + "9" * MAX_LINE_CHARS + "\n"),
        loaded_rows=1,
        quarantined={3: f"line too long: {MAX_LINE_CHARS + 28} characters (limit {MAX_LINE_CHARS})"},
    ),
    Malformed("movements.parquet", lambda: b"PAR1 not really parquet", rejected="cannot read Parquet file"),
    Malformed("movements_binary.csv", lambda: bytes(range(256)) * 4, rejected="not a text file (binary content)"),
]


@pytest.mark.parametrize("case", MALFORMED, ids=[case.name for case in MALFORMED])
def test_malformed_files_keep_the_previous_data_and_say_what_is_wrong(house: ErpLakehouse, case: Malformed) -> None:
    before = {table: house.raw(table) for table in ERP_TABLES}
    house.drop(case.name, case.data())
    result = house.run()
    assert result.success, "bad input must not crash the cycle"
    movements = house.raw("erp_movements")
    kept = movements[movements["source_file"] == "movements.csv"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before["erp_movements"])  # previous data intact
    for table in set(ERP_TABLES) - {"erp_movements"}:
        pd.testing.assert_frame_equal(house.raw(table), before[table])
    assert (movements["source_file"] == case.name).sum() == case.loaded_rows
    info = metadata(result, "raw", "erp_movements")
    if case.rejected:
        moved = house.landing / "rejected" / case.name
        assert moved.exists() and not (house.landing / case.name).exists()
        reason = moved.with_name(moved.name + REASON_SUFFIX).read_text(encoding="utf-8")
        assert f"reason: {case.name}: {case.rejected}" in reason
        assert f"ERP file {case.name} rejected: {case.name}: {case.rejected}" in info["files_rejected"][0]
        assert case.name in info["warning"] and case.rejected in info["warning"]
        assert "rejected in this run" in failed_checks(result, "erp_movements")["rows_loaded"]
    else:
        quarantine = house.quarantine()
        mine = quarantine[quarantine["source_file"] == case.name]
        assert dict(zip(mine["line_number"], mine["reason"], strict=True)) == (case.quarantined or {})
        assert set(mine["table"]) <= {"erp_movements"}


def test_quarantine_is_kept_across_runs_and_shown(house: ErpLakehouse) -> None:
    house.drop("movements_bad.csv", HEADER + "2025-11-11,MAT-1,WH-1,issue,1\n2025-11-11,MAT-1,WH-1,issue,-1\n")
    first = house.run()
    second = house.run()
    assert first.success and second.success
    for result in (first, second):
        info = metadata(result, "quarantine", "erp_rows")
        assert info["rows"] == 1 and info["by_table"] == {"erp_movements": 1}
        assert "movements_bad.csv" in info["latest"] and "negative quantity: '-1'" in info["latest"]
    row = house.quarantine().iloc[0]
    assert (row["source_file"], row["line_number"], row["reason"]) == (
        "movements_bad.csv",
        3,
        "negative quantity: '-1'",
    )
    # one bad row in twelve: rows_loaded reports it (WARN), the table is still written
    rows_loaded = checks(second, "erp_movements")["rows_loaded"]
    assert not rows_loaded.passed and "1 of 12 rows quarantined" in (rows_loaded.description or "")


def test_movements_of_an_unknown_material_are_held_back_until_the_master_knows_it(house: ErpLakehouse) -> None:
    before = house.raw("erp_movements")
    house.drop("movements_new_item.csv", HEADER + "2025-11-11,MAT-9,WH-1,issue,1\n")
    blocked = house.run()
    assert not blocked.success  # a blocking check failed: nothing downstream may run
    failed = checks(blocked, "erp_movements")["known_materials"]
    assert not failed.passed and failed.metadata["examples"].value == ["MAT-9"]
    assert metadata(blocked, "raw", "erp_movements")["status"].startswith("NOT WRITTEN")
    pd.testing.assert_frame_equal(house.raw("erp_movements"), before)

    house.drop("materials_2025-11-11.csv", "material_id,description,supplier_id\nMAT-9,Antena 5G,SUP-1\n")
    fixed = house.run()
    assert fixed.success and failed_checks(fixed, "erp_movements") == {}
    assert "MAT-9" in set(house.raw("erp_movements")["material_id"])
    assert set(house.raw("erp_materials")["material_id"]) == {"MAT-1", "MAT-2", "MAT-9"}


def test_dates_after_the_as_of_date_are_held_back(house: ErpLakehouse) -> None:
    before = house.raw("erp_movements")
    house.drop("movements_future.csv", HEADER + "2025-12-01,MAT-1,WH-1,issue,1\n")
    result = house.run()
    assert not result.success
    assert "2025-12-01" in failed_checks(result, "erp_movements")["date_range"]
    pd.testing.assert_frame_equal(house.raw("erp_movements"), before)


def test_old_exports_fail_the_freshness_check_but_still_load(house: ErpLakehouse) -> None:
    result = house.run(as_of="2025-11-30")
    assert result.success
    assert "stale: newest movement_date 2025-11-10 is 20 days before" in failed_checks(result, "erp_movements")["fresh"]
    assert metadata(result, "raw", "erp_movements")["status"] == "written"


def test_maintenance_exports_load_with_their_quarantine_and_referential_checks(house: ErpLakehouse) -> None:
    house.drop(
        "base_instalada.csv",
        "Código do Equipamento;Tipo de Equipamento;Modelo;Local;Data de Instalação;Situação;Data de Baixa\n"
        "EQ-1;BATTERY;Banco VRLA;TWR-1;15/03/2012;Em desativação;30/01/2026\n"
        "EQ-2;RADIO;RRU;TWR-1;01/07/2019;Ativo;\n",
    )
    house.drop(
        "ordens_manutencao.csv",
        "OS;Tipo de Manutenção;Equipamento;Site;Data Programada;Data da Falha;Data Conclusão;Situação\n"
        "7001;Corretiva;EQ-2;TWR-1;;03/11/2025;04/11/2025;Concluída\n"
        "7002;Corretiva;EQ-2;TWR-1;;;;Aberta\n"
        "7003;Preventiva;EQ-9;TWR-1;20/12/2025;;;Aberta\n",
    )
    house.drop("materiais_ordem.csv", "Ordem;Código Material;Qtd\n7001;MAT-1;2\n7003;MAT-2;1\n")
    result = house.run()
    assert result.success
    assert house.raw("erp_installed_base")["status"].tolist() == ["phase_out", "active"]
    orders = house.raw("erp_work_orders")
    assert orders["work_order_id"].tolist() == ["7001", "7003"] and orders["kind"].tolist() == [
        "corrective",
        "preventive",
    ]
    assert house.raw("erp_work_order_parts")["quantity"].tolist() == [2.0, 1.0]
    bad = house.quarantine().query("table == 'erp_work_orders'")
    assert bad[["source_file", "line_number", "reason"]].values.tolist() == [
        ["ordens_manutencao.csv", 3, "corrective order without failure_date"]
    ]
    # an order of equipment the installed base does not list loads, with a warning naming it
    unknown = checks(result, "erp_work_orders")["known_equipment"]
    assert not unknown.passed and unknown.metadata["examples"].value == ["EQ-9"]
    assert failed_checks(result, "erp_installed_base") == {}
    assert failed_checks(result, "erp_work_order_parts") == {}


def test_work_order_parts_of_an_unknown_material_are_held_back(house: ErpLakehouse) -> None:
    house.drop("work_order_parts.csv", "work_order_id,material_id,quantity\n7001,MAT-1,2\n7001,MAT-404,1\n")
    result = house.run()
    held = checks(result, "erp_work_order_parts")["known_materials"]
    assert not held.passed and held.metadata["examples"].value == ["MAT-404"]
    assert not result.success  # one row in two held back: above the share, the table is not written
    reasons = house.quarantine().query("table == 'erp_work_order_parts'")["reason"].tolist()
    assert reasons == ["unknown material_id: MAT-404 (not in erp_materials; it loads once erp_materials has it)"]
    held_back = reason_summary(house.quarantine().query("table == 'erp_work_order_parts'"))
    assert [(kind["reason"], kind["rows"]) for kind in held_back] == [("unknown material_id", 1)]


def test_a_tables_checks_and_a_subset_of_the_tables_run_from_the_ui(house: ErpLakehouse) -> None:
    """The Dagster UI's "Execute" on a check and a materialization of one ERP table alone: the checks
    report on the table the stored files build, loading and writing nothing; the subset writes its table."""
    from nova_assets.defs.ingest.erp import erp_tables
    from nova_assets.resources import LakeResource

    movements = dg.AssetKey(["raw", "erp_movements"])
    before = house.raw("erp_movements")
    new_file = house.drop("movements_more.csv", HEADER + "2025-11-11,MAT-1,WH-1,issue,3\n")
    resources = {"sources": house.sources(), "lake": LakeResource(lake_dir=house.lake_dir)}
    only_checks = dg.materialize(
        [erp_tables], resources=resources, selection=dg.AssetSelection.checks_for_assets(movements)
    )
    assert only_checks.success
    assert set(checks(only_checks, "erp_movements")) == {s.name for s in check_specs("erp_movements")}
    assert failed_checks(only_checks, "erp_movements") == {}
    assert only_checks.get_asset_materialization_events() == []
    assert (
        new_file.exists()
        and [f.file_name for f in ErpStore.in_lake(house.lake_dir).files()].count("movements_more.csv") == 0
    )  # not loaded by a check
    pd.testing.assert_frame_equal(house.raw("erp_movements"), before)

    alone = dg.materialize([erp_tables], resources=resources, selection=[movements])
    assert alone.success
    assert [e.asset_key for e in alone.get_asset_materialization_events()] == [movements]
    assert len(house.raw("erp_movements")) == len(before) + 1
