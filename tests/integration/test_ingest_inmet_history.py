"""INMET yearly ZIPs in the landing folder -> raw/weather_inmet_history -> first choice of raw/weather_daily.

The CSVs are the hand-made fixtures of tests/fixtures/inmet (both header styles), zipped the way
INMET's yearly archives hold them.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd

from nova_assets.defs.ingest.inmet_history import weather_inmet_history
from nova_assets.defs.ingest.public_apis import defs as public_defs
from nova_assets.lib.sources.landing import REASON_SUFFIX
from nova_assets.lib.sources.snapshots import SNAPSHOT_DIR
from nova_assets.resources import SourcesResource
from tests.integration.ingest_support import failed_checks, materialize, metadata, read

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inmet"
CSV_2018 = FIXTURES / "INMET_NE_BA_A401_SALVADOR_01-01-2018_A_31-12-2018.CSV"  # pre-2019 header
CSV_2019 = FIXTURES / "INMET_NE_BA_A401_SALVADOR_01-01-2019_A_31-12-2019.CSV"  # 2019+ header
WEATHER = next(a for a in public_defs().assets if a.key.path[-1] == "weather_daily")


def yearly_zip(year: str, name: str, csv: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{year}/{name}", csv)
    return buffer.getvalue()


def redated_2019(year: int, month: int) -> bytes:
    """The 2019 fixture moved to 1 `month`/`year`: a day the recorded Open-Meteo answer also has."""
    return (
        CSV_2019.read_bytes()
        .replace(b"2019/01/01", f"{year}/{month:02d}/01".encode())
        .replace(b"2019/01/02", f"{year}/{month:02d}/02".encode())
    )


class House:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.inmet = root / "landing" / "inmet"
        self.inmet.mkdir(parents=True)
        self.lake_dir = str(root / "lake")
        self.sources = SourcesResource(landing_dir=str(root / "landing"), snapshot_dir=str(SNAPSHOT_DIR))

    def drop(self, name: str, data: bytes) -> Path:
        path = self.inmet / name
        path.write_bytes(data)
        return path

    def run(self, *assets, partition: str | None = None):
        return materialize(list(assets) or [weather_inmet_history], self.sources, self.lake_dir, partition)

    def table(self, name: str = "weather_inmet_history") -> pd.DataFrame:
        return read(self.lake_dir, "raw", name)


def test_both_header_styles_load_and_a_copy_under_another_name_is_skipped(tmp_path: Path) -> None:
    house = House(tmp_path)
    house.drop("2018.zip", yearly_zip("2018", CSV_2018.name, CSV_2018.read_bytes()))
    house.drop("2019.zip", yearly_zip("2019", CSV_2019.name, CSV_2019.read_bytes()))
    result = house.run()
    assert result.success and failed_checks(result, "weather_inmet_history") == {}
    table = house.table()
    # 31 Dec 2018 needs its last three UTC hours from the 2019 file: both layouts were read together
    assert table["date"].tolist() == [date(2018, 12, 31), date(2019, 1, 1)]
    assert set(table["source"]) == {"inmet-historical"}
    assert table["precipitation_mm"].tolist() == [0.8 + 5.0, 2.4 + 1.0]
    kept = list((tmp_path / "lake" / "bronze" / "inmet_history" / "A401" / "files").glob("*/*.zip"))
    assert sorted(p.name for p in kept) == ["2018.zip", "2019.zip"]
    house.drop("dados_2019_copia.zip", (house.inmet / "2019.zip").read_bytes())
    again = house.run()
    info = metadata(again, "raw", "weather_inmet_history")
    assert (
        info["archives_new"] == []
        and "dados_2019_copia.zip (same content as 2019.zip)" in (info["archives_already_loaded"])
    )
    pd.testing.assert_frame_equal(house.table(), table)


def test_a_bad_zip_is_moved_aside_with_its_reason_and_the_loaded_years_stay(tmp_path: Path) -> None:
    house = House(tmp_path)
    house.drop("2019.zip", yearly_zip("2019", CSV_2019.name, CSV_2019.read_bytes()))
    assert house.run().success
    before = house.table()
    house.drop("2020.zip", b"<html>download interrompido</html>")
    other_station = CSV_2019.read_bytes().replace(b"A401", b"A402")
    house.drop("2021.zip", yearly_zip("2021", CSV_2019.name.replace("A401", "A402"), other_station))
    result = house.run()
    assert result.success
    warning = metadata(result, "raw", "weather_inmet_history")["warning"]
    assert "INMET archive 2020.zip rejected: 2020.zip: BadZipFile" in warning
    assert "INMET archive 2021.zip rejected: 2021.zip: SourceUnavailable: no CSV of station A401" in warning
    assert set(failed_checks(result, "weather_inmet_history")) == {"rows_loaded"}  # a warning, not a stop
    rejected = house.inmet / "rejected"
    assert sorted(p.name for p in rejected.iterdir()) == [
        "2020.zip", "2020.zip" + REASON_SUFFIX, "2021.zip", "2021.zip" + REASON_SUFFIX
    ]  # fmt: skip
    assert "reason: 2020.zip: BadZipFile" in (rejected / ("2020.zip" + REASON_SUFFIX)).read_text(encoding="utf-8")
    assert not (house.inmet / "2020.zip").exists()
    pd.testing.assert_frame_equal(house.table(), before)


def test_daily_weather_prefers_the_inmet_archive_whatever_arrives_later(tmp_path: Path) -> None:
    house = House(tmp_path)
    first = house.run(weather_inmet_history, WEATHER, partition="2025-11-10")  # no archive yet: Open-Meteo
    assert first.success
    assert house.table("weather_daily").set_index("date").loc[date(2025, 11, 1), "source"] == "open-meteo"
    house.drop("2025.zip", yearly_zip("2025", CSV_2019.name.replace("2019", "2025"), redated_2019(2025, 11)))
    second = house.run(weather_inmet_history, WEATHER, partition="2025-11-10")  # Nov 1 is inside the lookback
    assert second.success and failed_checks(second, "weather_daily") == {}
    weather = house.table("weather_daily").set_index("date")
    assert weather.loc[date(2025, 11, 1), "source"] == "inmet-historical"
    assert weather.loc[date(2025, 11, 1), "precipitation_mm"] == 2.4 + 1.0
    assert (weather.drop(index=date(2025, 11, 1))["source"] == "open-meteo").all()
    assert metadata(second, "raw", "weather_daily")["source"] == "inmet-historical, open-meteo"
