"""INMET connector.

The fixtures are hand-made (no INMET recording exists): see tests/fixtures/inmet/README.md.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from nova_assets.lib.sources.inmet import fetch_inmet_range, fetch_inmet_raw, parse_inmet_api, parse_inmet_historical
from nova_assets.lib.sources.snapshots import SourceUnavailable
from nova_assets.lib.sources.weather import DAILY_COLUMNS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inmet"
CSV_2018 = FIXTURES / "INMET_NE_BA_A401_SALVADOR_01-01-2018_A_31-12-2018.CSV"
CSV_2019 = FIXTURES / "INMET_NE_BA_A401_SALVADOR_01-01-2019_A_31-12-2019.CSV"
API_JSON = FIXTURES / "api_A401_2019-01-01_2019-01-02.json"
TOKEN = "SECRET-TOKEN-123"
API_PATH = f"/token/estacao/2019-01-01/2019-01-02/A401/{TOKEN}"


def yearly_zip(*members: tuple[str, bytes]) -> bytes:
    """An archive laid out like portal.inmet.gov.br/uploads/dadoshistoricos/YYYY.zip (a year folder)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members:
            archive.writestr(f"{name[-8:-4]}/{name}", content)
    return buffer.getvalue()


def member(csv: Path) -> tuple[str, bytes]:
    return csv.name, csv.read_bytes()


def other_station(csv: Path) -> tuple[str, bytes]:
    text = csv.read_bytes().replace(b"A401", b"A402").replace(b"SALVADOR", b"FEIRA DE SANTANA")
    return csv.name.replace("A401_SALVADOR", "A402_FEIRA DE SANTANA"), text


def test_2019_style_csv_gives_the_expected_day():
    daily = parse_inmet_historical([yearly_zip(other_station(CSV_2019), member(CSV_2019))])
    assert list(daily.columns) == DAILY_COLUMNS
    # 27 UTC hours from 2019-01-01 00:00: only local 2019-01-01 (03:00 UTC .. 02:00 UTC next day) is whole
    assert daily["date"].tolist() == [date(2019, 1, 1)]
    day = daily.iloc[0]
    # hand computation from the fixture design (README): hour h has 24 + 0.2h °C, max/min ± 0.5
    local_hours = [h for h in range(3, 24) if h != 10] + [0, 1, 2]  # 10:00 UTC has no temperature
    assert day["temp_avg"] == pytest.approx(sum(24 + 0.2 * h for h in local_hours) / len(local_hours))
    assert day["temp_max"] == pytest.approx(24 + 0.2 * 23 + 0.5)
    assert day["temp_min"] == pytest.approx(24 + 0.2 * 0 - 0.5)  # 00:00 UTC on 2 January
    assert day["precipitation_mm"] == pytest.approx(2.4 + 1.0)  # not the 5.0 mm of 02:00 UTC on 1 January
    assert day["humidity_avg"] == pytest.approx(80.0)  # two missing hours ignored
    assert day["wind_speed_max"] == pytest.approx(5.5 * 3.6)  # m/s -> km/h
    assert day["source"] == "inmet-historical"


def test_api_and_csv_describe_the_same_hours_and_give_the_same_days():
    from_api = parse_inmet_api(API_JSON.read_bytes())
    from_csv = parse_inmet_historical([yearly_zip(member(CSV_2019))])
    assert (from_api["source"].tolist(), from_csv["source"].tolist()) == (["inmet"], ["inmet-historical"])
    pd.testing.assert_frame_equal(from_api.drop(columns="source"), from_csv.drop(columns="source"))


def test_a_variable_missing_all_day_stays_missing_instead_of_zero():
    rows = json.loads(API_JSON.read_bytes())
    for row in rows:
        row["CHUVA"] = None
    day = parse_inmet_api(json.dumps(rows).encode()).iloc[0]
    assert pd.isna(day["precipitation_mm"])
    assert day["temp_max"] == pytest.approx(24 + 0.2 * 23 + 0.5)


def test_a_local_day_straddling_two_yearly_files_needs_both():
    both = parse_inmet_historical([yearly_zip(member(CSV_2018)), yearly_zip(member(CSV_2019))])
    assert both["date"].tolist() == [date(2018, 12, 31), date(2019, 1, 1)]
    new_years_eve = both.iloc[0]
    # 03:00..23:00 UTC of 31 Dec (pre-2019 layout) + 00:00..02:00 UTC of 1 Jan (2019 layout)
    assert new_years_eve["precipitation_mm"] == pytest.approx(0.8 + 5.0)
    assert new_years_eve["temp_min"] == pytest.approx(24 + 0.2 * 0 - 0.5)
    assert new_years_eve["temp_max"] == pytest.approx(24 + 0.2 * 23 + 0.5)
    only_2018 = parse_inmet_historical([yearly_zip(member(CSV_2018))])
    assert only_2018.empty  # 31 Dec misses its last three hours


def test_csv_of_another_station_is_refused():
    name, text = other_station(CSV_2019)
    mislabelled = yearly_zip((name.replace("A402", "A401"), text))
    with pytest.raises(ValueError, match="station 'A402', not 'A401'"):
        parse_inmet_historical([mislabelled])


def test_archive_without_the_station_is_refused():
    with pytest.raises(SourceUnavailable, match="no CSV of station A401"):
        parse_inmet_historical([yearly_zip(other_station(CSV_2019))])


def test_unreadable_value_is_an_error_not_a_silent_gap():
    broken = CSV_2019.read_bytes().replace(b";24,6;", b";24,6x;", 1)
    archive = yearly_zip((CSV_2019.name, broken))
    with pytest.raises(ValueError, match=r"24\.6x"):
        parse_inmet_historical([archive])


def test_fetch_returns_the_api_body_unchanged(server):
    body = API_JSON.read_bytes()
    server.route(API_PATH, server.reply(body))
    assert fetch_inmet_raw(server.url, TOKEN, date(2019, 1, 1), date(2019, 1, 2)) == body
    assert server.requests == [API_PATH]


def test_invalid_token_text_answer_is_a_clear_error(server):
    server.route(API_PATH, server.reply("Token Inválido".encode(), content_type="text/plain; charset=utf-8"))
    with pytest.raises(SourceUnavailable, match="token is probably invalid or expired") as raised:
        fetch_inmet_raw(server.url, TOKEN, date(2019, 1, 1), date(2019, 1, 2))
    assert "Token Inválido" in str(raised.value)
    assert TOKEN not in str(raised.value)
    assert len(server.requests) == 1


def test_long_ranges_are_fetched_year_by_year_and_merged(server):
    rows = json.loads(API_JSON.read_bytes())
    server.route(f"/token/estacao/2018-12-30/2018-12-31/A401/{TOKEN}", server.reply(b"[]"))
    server.route(f"/token/estacao/2019-01-01/2019-01-02/A401/{TOKEN}", server.reply(API_JSON.read_bytes()))
    payload = fetch_inmet_range(server.url, TOKEN, date(2018, 12, 30), date(2019, 1, 2))
    assert server.requests == [
        f"/token/estacao/2018-12-30/2018-12-31/A401/{TOKEN}",
        f"/token/estacao/2019-01-01/2019-01-02/A401/{TOKEN}",
    ]
    assert json.loads(payload) == rows
    pd.testing.assert_frame_equal(parse_inmet_api(payload), parse_inmet_api(API_JSON.read_bytes()))
