"""ANATEL and holiday raw assets, materialized in process: fixture export, rejected export, configured holidays.

The ANATEL export used here is the hand-made fixture of tests/fixtures/anatel (see its README).
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from nova_assets.defs.ingest.anatel import anatel_5g_monthly
from nova_assets.defs.ingest.holidays import holidays
from nova_assets.lib.sources.landing import REASON_SUFFIX
from nova_assets.lib.sources.snapshots import SNAPSHOT_DIR
from nova_assets.resources import SourcesResource
from tests.integration.ingest_support import failed_checks, materialize, metadata, read

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "anatel" / "estacoes_licenciadas_sample.csv"
AS_OF = "2023-01-31"  # the fixture's last licence is in January 2023


def sources(tmp_path: Path, **overrides: str) -> SourcesResource:
    return SourcesResource(
        landing_dir=str(tmp_path / "landing"), snapshot_dir=str(SNAPSHOT_DIR), as_of_date=AS_OF, **overrides
    )


@pytest.fixture
def anatel_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "landing" / "anatel"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURE, folder / "estacoes_licenciadas.csv")
    return folder


def test_the_export_becomes_monthly_5g_counts_with_growth(tmp_path: Path, anatel_dir: Path) -> None:
    result = materialize([anatel_5g_monthly], sources(tmp_path), str(tmp_path / "lake"))
    assert result.success and failed_checks(result, "anatel_5g_monthly") == {}
    table = read(str(tmp_path / "lake"), "raw", "anatel_5g_monthly")
    assert table["stations_5g_new"].tolist() == [2, 0, 0, 2, 0, 1]  # the fixture README's expectation
    info = metadata(result, "raw", "anatel_5g_monthly")
    assert info["origin"] == "export estacoes_licenciadas.csv" and info["stations_5g_total"] == 5
    assert info["provenance"] == "ANATEL licensed-stations export dropped in the landing folder"


def test_an_unreadable_newer_export_is_moved_aside_and_the_older_one_used(tmp_path: Path, anatel_dir: Path) -> None:
    newer = anatel_dir / "estacoes_2023-02.csv"
    newer.write_text("NumEstacao;SiglaUf\n1;BA\n", encoding="utf-8")
    os.utime(newer, (newer.stat().st_mtime + 60, newer.stat().st_mtime + 60))
    result = materialize([anatel_5g_monthly], sources(tmp_path), str(tmp_path / "lake"))
    assert result.success
    info = metadata(result, "raw", "anatel_5g_monthly")
    assert info["origin"] == "export estacoes_licenciadas.csv"
    assert "ANATEL export estacoes_2023-02.csv rejected: ANATEL export lacks columns" in info["warning"]
    moved = anatel_dir / "rejected" / "estacoes_2023-02.csv"
    assert moved.exists() and moved.with_name(moved.name + REASON_SUFFIX).exists()
    assert "stale" in failed_checks(result, "anatel_5g_monthly")["fresh"]


def test_without_any_readable_export_the_asset_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "landing" / "anatel").mkdir(parents=True)
    result = materialize([anatel_5g_monthly], sources(tmp_path), str(tmp_path / "lake"))
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "no readable ANATEL export" in failure.step_failure_data.error.message


def test_municipal_holidays_are_configurable_and_checked(tmp_path: Path) -> None:
    resource = sources(tmp_path, municipal_holidays="06-24 São João; 08-15 Nossa Senhora da Boa Morte")
    result = materialize([holidays], resource, str(tmp_path / "lake"))
    assert result.success and failed_checks(result, "holidays") == {}
    table = read(str(tmp_path / "lake"), "raw", "holidays").set_index("date")
    assert table.loc[date(2023, 8, 15), "scope"] == "municipal"
    assert date(2023, 12, 8) not in table.index  # Salvador's default replaced
    assert table.index.max() == date(2024, 12, 31)  # through the year after the as-of date (Véspera de Ano-Novo)
    assert metadata(result, "raw", "holidays")["municipal"] == "06-24 São João, 08-15 Nossa Senhora da Boa Morte"
