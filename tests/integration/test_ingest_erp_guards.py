"""Issue 16, items 1, 2, 3 and 5: no ERP input may silently remove or corrupt stored data.

A year of history is loaded once (module fixture); each test copies that state, drops one file and
checks that the history survives, that a wrong row is held back with its reason, and that a blocked
table names the file and keeps the previous one.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from nova_assets.lib.sources import landing as landing_module
from nova_assets.lib.sources.erp_store import ErpStore
from nova_assets.lib.sources.snapshots import SNAPSHOT_DIR
from nova_assets.settings import SettingsError, load_settings
from tests.integration.ingest_support import ErpLakehouse, checks, failed_checks, metadata

AS_OF = "2025-11-11"
HEADER = "movement_date,material_id,site_id,movement_type,quantity\n"
FIRST, LAST = date(2024, 10, 1), date(2025, 11, 10)
DAYS = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
HISTORY = (
    HEADER
    + "".join(
        f"{day},MAT-1,TWR-1,issue,{q}\n"
        for day in DAYS
        for q in range(1, 6)  # five jobs a day at the tower
    )
    + "".join(f"{day},MAT-2,WH-1,issue,2\n" for day in DAYS)
)
BUSINESS = {
    "materials.csv": "material_id,description,unit_cost,supplier_id\nMAT-1,Conector SC/APC,10,SUP-1\n"
    "MAT-2,Cabo drop 2F,5.5,SUP-1\n",
    "sites.csv": "site_id,site_name,site_type\nWH-1,Almoxarifado Central,warehouse\nTWR-1,ERB Salvador 01,tower\n",
    "suppliers.csv": "supplier_id,supplier_name,lead_time_mean_days,lead_time_std_days\nSUP-1,Fornecedor A,10,2\n",
    "movements.csv": HISTORY,
    "stock_on_hand.csv": "snapshot_date,material_id,site_id,on_hand\n"
    "2025-11-10,MAT-1,WH-1,4\n2025-11-10,MAT-2,WH-1,0\n",
    "open_orders.csv": "po_id,material_id,supplier_id,quantity,order_date,expected_date\n"
    "PO-1,MAT-1,SUP-1,5,2025-11-01,2025-11-20\n",
}
TOWER_ISSUES = 5 * len(DAYS)


class Lakehouse(ErpLakehouse):
    def store(self) -> ErpStore:
        return ErpStore(Path(self.lake_dir) / "bronze" / "erp")

    def tower_issues(self) -> pd.DataFrame:
        movements = self.raw("erp_movements")
        return movements[(movements["site_id"] == "TWR-1") & (movements["movement_type"] == "issue")]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Lakehouse:
    house = Lakehouse(tmp_path_factory.mktemp("erp_history"))
    house.landing.mkdir(parents=True)
    for name, text in BUSINESS.items():
        house.drop(name, text)
    result = house.run()
    assert result.success, failed_checks(result, "erp_movements")
    assert len(house.tower_issues()) == TOWER_ISSUES
    return house


@pytest.fixture
def house(loaded: Lakehouse, tmp_path: Path) -> Lakehouse:
    shutil.copytree(loaded.root, tmp_path / "house")
    return Lakehouse(tmp_path / "house")


# -- item 1: a typo in one date must not delete history ------------------------------------------------


def test_a_typo_date_in_a_delta_file_is_held_back_and_deletes_nothing(house: Lakehouse) -> None:
    before = house.tower_issues()
    house.drop("movements_delta.csv", HEADER + "10/11/2015,MAT-1,TWR-1,issue,3\n2025-11-11,MAT-1,TWR-1,issue,4\n")
    result = house.run()
    assert result.success  # one row in ~2,400 held back: a warning, the table is written
    after = house.tower_issues()
    assert len(after) == TOWER_ISSUES + 1  # the whole history, plus the good row of the delta
    pd.testing.assert_frame_equal(after[after["source_file"] == "movements.csv"].reset_index(drop=True), before)
    held = house.quarantine().set_index("source_file").loc["movements_delta.csv"]
    assert held["line_number"] == 2 and held["raw_row"] == "10/11/2015,MAT-1,TWR-1,issue,3"
    assert "isolated movement_date: 2015-11-10 is more than 31 days from every other date of its file" in held["reason"]
    plausible = checks(result, "erp_movements")["plausible"]
    assert not plausible.passed and "1 of" in (plausible.description or "")


def test_a_replacement_far_larger_than_the_file_is_blocked_naming_the_file(house: Lakehouse) -> None:
    before = house.raw("erp_movements")
    # two document-less rows 24 days apart: read literally, they replace 25 days of the tower's issues
    house.drop("movimentos_correcao.csv", HEADER + "2025-10-01,MAT-1,TWR-1,issue,1\n2025-10-25,MAT-1,TWR-1,issue,1\n")
    result = house.run()
    assert not result.success
    replacement = failed_checks(result, "erp_movements")["replacement"]
    assert "movimentos_correcao.csv" in replacement and "would replace 125 stored movements" in replacement
    assert "nova erp withdraw movimentos_correcao.csv" in replacement
    pd.testing.assert_frame_equal(house.raw("erp_movements"), before)  # the previous table stands


def test_replaced_rows_come_back_when_the_replacing_file_is_withdrawn(house: Lakehouse) -> None:
    before = house.raw("erp_movements")
    house.drop("movements_2025-11-10.csv", HEADER + "2025-11-10,MAT-1,TWR-1,issue,9\n")  # a corrected day
    assert house.run().success
    day = house.tower_issues()
    assert day[day["movement_date"] == date(2025, 11, 10)]["quantity"].tolist() == [9.0]
    withdrawn = house.store().withdraw("movements_2025-11-10.csv")
    manifest = json.loads((house.store().root / "manifest.json").read_text())
    assert [f["withdrawn_at"] for f in manifest["files"] if f["file_name"] == "movements_2025-11-10.csv"] == [
        withdrawn.withdrawn_at
    ]
    assert house.run().success
    pd.testing.assert_frame_equal(house.raw("erp_movements"), before)  # the five jobs of Nov 10 are back
    again = house.run()  # the file is still in the landing folder: it is not loaded again
    assert any("withdrawn on" in s for s in metadata(again, "raw", "erp_movements")["files_already_loaded"])


# -- item 2: one bad row must not block a table ------------------------------------------------------------


def test_codes_in_another_case_or_with_spaces_are_the_masters_codes(house: Lakehouse) -> None:
    house.drop("estoque_2025-11-11.csv", "data;material;deposito;saldo\n11/11/2025; mat-1 ;wh-1;7\n")
    result = house.run()
    assert result.success and "known_materials" not in failed_checks(result, "erp_stock")
    stock = house.raw("erp_stock")
    assert stock[stock["snapshot_date"] == date(2025, 11, 11)][
        ["material_id", "site_id", "on_hand"]
    ].values.tolist() == [["MAT-1", "WH-1", 7.0]]


def test_a_far_future_date_is_held_back_and_the_rest_of_the_table_is_written(house: Lakehouse) -> None:
    house.drop("movements_2025-11-11.csv", HEADER + "2025-11-11,MAT-2,WH-1,issue,3\n10/11/2206,MAT-2,WH-1,issue,1\n")
    result = house.run()
    assert result.success
    movements = house.raw("erp_movements")
    assert (movements["source_file"] == "movements_2025-11-11.csv").sum() == 1
    date_range = checks(result, "erp_movements")["date_range"]
    assert not date_range.passed and date_range.metadata["examples"].value == ["2206-11-10"]
    held = house.quarantine().set_index("source_file").loc["movements_2025-11-11.csv"]
    assert held["line_number"] == 3 and "movement_date outside 2000-01-01..2025-11-11: 2206-11-10" in held["reason"]


def nova(house: Lakehouse, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NOVA_LANDING_DIR": str(house.root / "landing"),
        "NOVA_LAKE_DIR": house.lake_dir,
        "NOVA_SNAPSHOT_DIR": str(SNAPSHOT_DIR),
        "NOVA_AS_OF_DATE": AS_OF,
    }
    return subprocess.run(
        [sys.executable, "-m", "nova_assets.cli", "erp", *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_nova_erp_import_says_per_file_what_was_loaded_quarantined_and_rejected(house: Lakehouse) -> None:
    house.drop("movements_2025-11-11.csv", HEADER + "2025-11-11,MAT-2,WH-1,issue,3\n2025-11-11,MAT-2,WH-1,issue,abc\n")
    house.drop("movimentos_ruins.csv", "data;material;quantidade\n11/11/2025;MAT-1;2\n")
    run = nova(house, "import")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "loaded      movements_2025-11-11.csv -> erp_movements: 1 rows, 1 quarantined" in out
    assert "1 x non-numeric quantity, e.g. movements_2025-11-11.csv:3: non-numeric quantity: 'abc'" in out
    assert (
        "REJECTED    movimentos_ruins.csv (erp_movements): movimentos_ruins.csv: missing required column(s): site_id"
        in out
    )
    assert "skipped     movements.csv (same content as movements.csv)" in out
    assert "erp_movements         written" in out
    assert (house.raw("erp_movements")["source_file"] == "movements_2025-11-11.csv").sum() == 1


def test_nova_erp_withdraw_rebuilds_the_tables_without_the_file_and_undo_brings_it_back(house: Lakehouse) -> None:
    before = house.raw("erp_movements")
    house.drop("movimentos_correcao.csv", HEADER + "2025-10-01,MAT-1,TWR-1,issue,1\n2025-10-25,MAT-1,TWR-1,issue,1\n")
    blocked = nova(house, "import")
    assert blocked.returncode == 1 and "NOT WRITTEN (the previous table is kept)" in blocked.stdout
    assert "nova erp withdraw movimentos_correcao.csv" in blocked.stdout
    withdrawn = nova(house, "withdraw", "movimentos_correcao.csv")
    assert withdrawn.returncode == 0, withdrawn.stdout + withdrawn.stderr
    assert "movimentos_correcao.csv (sha256 " in withdrawn.stdout and "withdrawn (" in withdrawn.stdout
    assert "erp_movements         written" in withdrawn.stdout
    assert re.search(r"^Data: ERP exports: \d+ files, none from the generated sample$", withdrawn.stdout, re.M)
    pd.testing.assert_frame_equal(house.raw("erp_movements"), before)
    (entry,) = [e for e in house.store().landing.entries() if e.file_name == "movimentos_correcao.csv"]
    assert entry.withdrawn_at is not None
    unknown = nova(house, "withdraw", "nao_existe.csv")
    assert unknown.returncode == 2 and "no loaded file is named 'nao_existe.csv'" in unknown.stderr
    undone = nova(house, "withdraw", "--undo", entry.content_hash[:12])
    assert undone.returncode == 1 and "put back" in undone.stdout  # blocked again: the file is back


# -- item 3: wrong values must not pass --------------------------------------------------------------------


def test_implausible_quantities_are_held_back_with_their_reason(house: Lakehouse) -> None:
    house.drop(
        "movements_2025-11-11.csv",
        HEADER
        + "2025-11-11,MAT-1,TWR-1,issue,1e12\n2025-11-11,MAT-1,TWR-1,issue,2000\n2025-11-11,MAT-1,TWR-1,issue,5\n",
    )
    result = house.run()
    assert result.success
    new = house.raw("erp_movements")
    assert new[new["source_file"] == "movements_2025-11-11.csv"]["quantity"].tolist() == [5.0]
    reasons = house.quarantine().set_index("line_number").loc[[2, 3], "reason"].tolist()
    assert "implausible quantity: 1000000000000.0 (should be at most 1,000,000" in reasons[0]
    assert "implausible quantity: 2000.0 is more than 20 times the 99th percentile of MAT-1 issue" in reasons[1]


def test_plausible_limits_come_from_the_setting(house: Lakehouse) -> None:
    house.drop("movements_2025-11-11.csv", HEADER + "2025-11-11,MAT-1,TWR-1,issue,50\n")
    result = house.run(erp_plausible_limits="erp_movements.quantity=..40", erp_plausible_factor=0)
    assert result.success
    (reason,) = house.quarantine()["reason"].tolist()
    assert reason == "implausible quantity: 50.0 (should be at most 40; NOVA_ERP_PLAUSIBLE_LIMITS)"


def test_a_bad_limit_setting_names_the_variable_and_what_is_accepted() -> None:
    with pytest.raises(SettingsError) as bad:
        load_settings({"NOVA_ERP_PLAUSIBLE_LIMITS": "erp_movements.quantity=<5", "NOVA_ERP_MAX_HELD_BACK_SHARE": "5%"})
    message = str(bad.value)
    assert "NOVA_ERP_MAX_HELD_BACK_SHARE must be a number from 0 to 1, not '5%'" in message
    assert "NOVA_ERP_PLAUSIBLE_LIMITS must be table.column=LOW..HIGH" in message
    assert "'erp_movements.quantity=<5': expected table.column=LOW..HIGH or =none" in message


# -- item 5: a read-only landing folder ------------------------------------------------------------------


def test_a_read_only_landing_folder_loads_what_it_can_and_says_what_to_do(
    house: Lakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    move = shutil.move

    def read_only_landing(source: str, target: str) -> object:  # as root, a chmod would not stop the move
        if Path(source).is_relative_to(house.landing):
            raise PermissionError(errno.EACCES, "Permission denied", source)
        return move(source, target)

    monkeypatch.setattr(landing_module.shutil, "move", read_only_landing)
    house.drop("movimentos_ruins.csv", "data;material;quantidade\n11/11/2025;MAT-1;2\n")
    house.drop("movements_2025-11-11.csv", HEADER + "2025-11-11,MAT-2,WH-1,issue,3\n")
    result = house.run()
    assert result.success  # no PermissionError: the good file loaded
    assert (house.raw("erp_movements")["source_file"] == "movements_2025-11-11.csv").sum() == 1
    (rejected,) = metadata(result, "raw", "erp_movements")["files_rejected"]
    assert "missing required column(s): site_id" in rejected and "the landing folder is read-only" in rejected
    assert f"Make {house.landing} writable, or remove the file yourself" in rejected
    assert rejected.endswith("(left in the landing folder)") and (house.landing / "movimentos_ruins.csv").exists()
    again = house.run()
    assert any(
        s.startswith("movimentos_ruins.csv (rejected before: ")
        for s in metadata(again, "raw", "erp_movements")["files_already_loaded"]
    )


def test_a_landing_folder_that_cannot_be_listed_is_named_and_the_stored_files_still_build(
    house: Lakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = house.raw("erp_movements")

    def unreadable(self: Path, pattern: str):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "rglob", unreadable)
    result = house.run()
    assert result.success
    (problem,) = metadata(result, "raw", "erp_movements")["landing_problems"]
    assert f"cannot list the landing folder {house.landing}" in problem and "read and execute permission" in problem
    pd.testing.assert_frame_equal(house.raw("erp_movements"), before)
