"""Open-Meteo historical archive (hourly, GMT) -> weather_daily for Salvador.

Open-Meteo needs no key and is always reachable when the internet is, so it is the recorded weather
source; INMET (station A401) is the met office's own data and is parsed into the same daily table.
"""

from __future__ import annotations

import json
from datetime import date

import httpx
import pandas as pd

from nova_assets.lib.sources.http_client import DEFAULT_POLICY, HttpPolicy, get_json
from nova_assets.lib.sources.snapshots import SourceUnavailable
from nova_assets.lib.sources.weather import daily_from_hourly

SNAPSHOT = "openmeteo_salvador_hourly_2021-11-12_2025-11-11.json"
SALVADOR = (-12.97, -38.51)
SOURCE = "open-meteo"
HOURLY_VARIABLES = {
    "temperature_2m": "°C",
    "relative_humidity_2m": "%",
    "precipitation": "mm",
    "wind_speed_10m": "km/h",
}


def fetch_openmeteo_raw(
    client_or_base_url: httpx.Client | str,
    start: date,
    end: date,
    location: tuple[float, float] = SALVADOR,
    policy: HttpPolicy = DEFAULT_POLICY,
) -> bytes:
    """Raw archive answer with the hourly variables between start and end (dates in GMT)."""
    label = f"Open-Meteo archive {start}..{end}"
    params = {
        "latitude": str(location[0]),
        "longitude": str(location[1]),
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "hourly": ",".join(HOURLY_VARIABLES),
    }
    body, decoded = get_json(client_or_base_url, "/v1/archive", label=label, params=params, policy=policy)
    if not isinstance(decoded, dict) or "hourly" not in decoded:
        raise SourceUnavailable(f"{label}: answer has no 'hourly' block")
    return body


def parse_openmeteo(payload: bytes) -> pd.DataFrame:
    """Archive answer -> weather_daily (source 'open-meteo'), days in America/Bahia time."""
    answer = json.loads(payload)
    units = {name: answer["hourly_units"][name] for name in HOURLY_VARIABLES}
    if units != HOURLY_VARIABLES:
        raise ValueError(f"unexpected Open-Meteo units {units}, expected {HOURLY_VARIABLES}")
    series = answer["hourly"]
    local_times = pd.to_datetime(pd.Series(series["time"]), format="%Y-%m-%dT%H:%M")
    time_utc = (local_times - pd.Timedelta(seconds=answer["utc_offset_seconds"])).dt.tz_localize("UTC")
    temp = pd.Series(series["temperature_2m"], dtype="float64")
    hourly = pd.DataFrame(
        {
            "time_utc": time_utc,
            "temp": temp,
            "temp_max": temp,
            "temp_min": temp,
            "humidity": pd.Series(series["relative_humidity_2m"], dtype="float64"),
            "precipitation_mm": pd.Series(series["precipitation"], dtype="float64"),
            "wind_speed_kmh": pd.Series(series["wind_speed_10m"], dtype="float64"),
        }
    )
    return daily_from_hourly(hourly, SOURCE)
