"""The one hourly -> daily weather aggregation shared by every weather source (Open-Meteo, INMET).

Sources report hours in UTC while demand is booked on local calendar days, so hours are grouped
by their America/Bahia date (UTC-3, no DST). Only complete local days (24 hourly rows) are kept:
the UTC edges of a download leave partial days whose rain sum would be too small.
"""

from __future__ import annotations

import pandas as pd

from nova_assets.lib.local_time import TIMEZONE_NAME

HOURLY_COLUMNS = [
    "time_utc",
    "temp",
    "temp_max",
    "temp_min",
    "humidity",
    "precipitation_mm",
    "wind_speed_kmh",
]
DAILY_COLUMNS = [
    "date",
    "temp_max",
    "temp_min",
    "temp_avg",
    "humidity_avg",
    "precipitation_mm",
    "wind_speed_max",
    "source",
]
HOURS_PER_DAY = 24
# which source's row a day keeps when several have it (lower wins, whatever arrived last): INMET's
# yearly files are the met office's consolidated record, its API the same station's provisional
# readings, Open-Meteo a reanalysis model around the city, not a measurement at the station
SOURCE_PRECEDENCE = {"inmet-historical": 0, "inmet": 1, "open-meteo": 2}


def daily_from_hourly(hourly: pd.DataFrame, source: str) -> pd.DataFrame:
    """Hourly frame (HOURLY_COLUMNS, tz-aware `time_utc`, NaN = missing) -> weather_daily rows.

    temp_max/temp_min come from each hour's max/min (INMET measures them; Open-Meteo repeats the
    instant value), temp_avg and humidity_avg are means of the instant readings, precipitation is
    summed, wind is the maximum hourly speed in km/h. A variable missing all day stays NaN.
    """
    hours = hourly[HOURLY_COLUMNS].drop_duplicates("time_utc", keep="last")
    local_day = hours["time_utc"].dt.tz_convert(TIMEZONE_NAME).dt.date.rename("date")
    grouped = hours.groupby(local_day)
    daily = pd.DataFrame(
        {
            "temp_max": grouped["temp_max"].max(),
            "temp_min": grouped["temp_min"].min(),
            "temp_avg": grouped["temp"].mean(),
            "humidity_avg": grouped["humidity"].mean(),
            "precipitation_mm": grouped["precipitation_mm"].sum(min_count=1),
            "wind_speed_max": grouped["wind_speed_kmh"].max(),
        }
    ).astype("float64")
    daily = daily[grouped.size() == HOURS_PER_DAY].reset_index()
    daily["source"] = source
    return daily[DAILY_COLUMNS]
