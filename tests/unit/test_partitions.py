"""The daily partitions start at the first day of data, not years before it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from nova_assets.defs import partitions
from nova_assets.lib.lake import write_table
from nova_assets.services.local_stack import PROJECT_ROOT


@pytest.fixture
def start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    for name in ("NOVA_PARTITIONS_START", "NOVA_SAMPLE_YEARS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NOVA_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("NOVA_SNAPSHOT_DIR", str(PROJECT_ROOT / "data" / "snapshots"))
    partitions.first_day_of_data.cache_clear()
    yield monkeypatch
    partitions.first_day_of_data.cache_clear()


def _movements(lake: Path, days: list[str]) -> None:
    frame = pd.DataFrame({"movement_date": pd.to_datetime(days).date, "material_id": "M1", "quantity": 1.0})
    write_table(lake, "raw", "erp_movements", frame)


def test_before_any_import_the_partitions_start_on_the_samples_first_day(start: pytest.MonkeyPatch) -> None:
    """`nova run` generates NOVA_SAMPLE_YEARS of history ending the day before the recorded weather's last day."""
    assert partitions.first_day_of_data() == date(2022, 11, 10)
    partitions.first_day_of_data.cache_clear()
    start.setenv("NOVA_SAMPLE_YEARS", "1")
    assert partitions.first_day_of_data() == date(2024, 11, 10)


def test_with_erp_history_the_partitions_start_on_its_first_movement(start: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _movements(tmp_path / "lake", ["2023-03-05", "2021-07-14", "2025-01-02"])
    assert partitions.first_day_of_data() == date(2021, 7, 14)


def test_the_setting_wins_and_a_bad_one_is_named(start: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _movements(tmp_path / "lake", ["2021-07-14"])
    start.setenv("NOVA_PARTITIONS_START", "2024-01-01")
    assert partitions.first_day_of_data() == date(2024, 1, 1)
    partitions.first_day_of_data.cache_clear()
    start.setenv("NOVA_PARTITIONS_START", "01/01/2024")
    with pytest.raises(ValueError, match="NOVA_PARTITIONS_START must be a date YYYY-MM-DD, not '01/01/2024'"):
        partitions.first_day_of_data()


def test_the_code_locations_partitions_begin_on_that_day() -> None:
    assert partitions.daily_partitions.start.date() == partitions.first_day_of_data()
    assert partitions.daily_partitions.timezone == "America/Bahia"
