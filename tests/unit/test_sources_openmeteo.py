from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from nova_assets.lib.sources.openmeteo import SNAPSHOT, fetch_openmeteo_raw, parse_openmeteo
from nova_assets.lib.sources.snapshots import SourceUnavailable, load_snapshot
from nova_assets.lib.sources.weather import DAILY_COLUMNS

RECORDED_QUERY = {
    "latitude": ["-12.97"],
    "longitude": ["-38.51"],
    "start_date": ["2021-11-12"],
    "end_date": ["2025-11-11"],
    "hourly": ["temperature_2m,relative_humidity_2m,precipitation,wind_speed_10m"],
}


@pytest.fixture(scope="module")
def snapshot() -> bytes:
    return load_snapshot(SNAPSHOT)


def test_snapshot_gives_complete_local_days(snapshot):
    daily = parse_openmeteo(snapshot)
    assert list(daily.columns) == DAILY_COLUMNS
    assert (daily.dtypes.drop(["date", "source"]) == "float64").all()
    assert (daily["source"] == "open-meteo").all()
    # 35,064 GMT hours = 1,461 GMT days; in America/Bahia (UTC-3) the first local day has only
    # 3 hours and the last 21, so both are dropped as incomplete.
    assert len(daily) == 1460
    assert daily["date"].iloc[0] == date(2021, 11, 12)
    assert daily["date"].iloc[-1] == date(2025, 11, 10)
    assert daily["date"].is_unique
    assert not daily.drop(columns=["date", "source"]).isna().any().any()


def test_one_day_checked_by_hand(snapshot):
    """2024-04-22 in Salvador runs from 03:00 GMT that day to 02:00 GMT on 2024-04-23."""
    hourly = json.loads(snapshot)["hourly"]
    first = hourly["time"].index("2024-04-22T03:00")
    assert hourly["time"][first + 23] == "2024-04-23T02:00"
    window = {name: values[first : first + 24] for name, values in hourly.items()}

    row = parse_openmeteo(snapshot).set_index("date").loc[date(2024, 4, 22)]

    assert row["precipitation_mm"] == pytest.approx(15.1) == pytest.approx(sum(window["precipitation"]))
    assert row["temp_max"] == 27.0 == max(window["temperature_2m"])
    assert row["temp_min"] == 23.5 == min(window["temperature_2m"])
    assert row["temp_avg"] == pytest.approx(sum(window["temperature_2m"]) / 24)
    assert row["humidity_avg"] == pytest.approx(sum(window["relative_humidity_2m"]) / 24)
    assert row["wind_speed_max"] == 12.8 == max(window["wind_speed_10m"])
    # the GMT calendar day would have summed 17.4 mm: the day boundary matters
    gmt_first = hourly["time"].index("2024-04-22T00:00")
    assert sum(hourly["precipitation"][gmt_first : gmt_first + 24]) == pytest.approx(17.4)


def test_answer_in_local_time_gives_the_same_days(snapshot):
    """Asked with timezone=America/Bahia, Open-Meteo shifts the times and sets utc_offset_seconds."""
    answer = json.loads(snapshot)
    answer["utc_offset_seconds"] = -3 * 3600
    answer["hourly"]["time"] = [
        (datetime.fromisoformat(t) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M") for t in answer["hourly"]["time"]
    ]
    assert parse_openmeteo(json.dumps(answer).encode()).equals(parse_openmeteo(snapshot))


def test_unexpected_units_are_refused(snapshot):
    answer = json.loads(snapshot)
    answer["hourly_units"]["wind_speed_10m"] = "m/s"
    with pytest.raises(ValueError, match="unexpected Open-Meteo units"):
        parse_openmeteo(json.dumps(answer).encode())


def test_fetch_sends_the_recorded_request_and_returns_the_body_unchanged(server, snapshot):
    server.route("/v1/archive", server.reply(snapshot))
    assert fetch_openmeteo_raw(server.url, date(2021, 11, 12), date(2025, 11, 11)) == snapshot
    [target] = server.requests
    assert urlsplit(target).path == "/v1/archive"
    assert parse_qs(urlsplit(target).query) == RECORDED_QUERY


def test_documented_error_answer_shows_its_reason(server):
    error = b'{"error":true,"reason":"Parameter \'end_date\' is out of allowed range"}'
    server.route("/v1/archive", server.reply(error, status=400))
    with pytest.raises(SourceUnavailable, match=r"HTTP 400.*out of allowed range"):
        fetch_openmeteo_raw(server.url, date(2021, 11, 12), date(2030, 1, 1))


def test_answer_without_hourly_block_is_refused(server):
    server.route("/v1/archive", server.reply(b'{"latitude": -12.97, "longitude": -38.51}'))
    with pytest.raises(SourceUnavailable, match="no 'hourly' block"):
        fetch_openmeteo_raw(server.url, date(2021, 11, 12), date(2025, 11, 11))
