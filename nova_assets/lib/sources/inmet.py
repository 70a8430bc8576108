"""INMET (Brazilian met office) station data -> weather_daily, from the token API or the yearly ZIPs.

Both INMET formats describe the same hourly UTC observations of the station (Salvador: A401); they
are turned into one hourly frame and then into days by the aggregation shared with Open-Meteo.
INMET reports wind in m/s; it is converted to km/h so both sources share one unit.
"""

from __future__ import annotations

import io
import json
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import PurePosixPath

import httpx
import pandas as pd

from nova_assets.lib.sources.endpoints import SALVADOR_STATION
from nova_assets.lib.sources.http_client import DEFAULT_POLICY, HttpPolicy, MalformedResponse, get_json
from nova_assets.lib.sources.snapshots import SourceUnavailable
from nova_assets.lib.sources.weather import daily_from_hourly

SOURCE = "inmet"  # the token API
HISTORICAL_SOURCE = "inmet-historical"  # the yearly ZIPs
MS_TO_KMH = 3.6
MISSING = "-9999"

# API field -> hourly column (values are strings with "." decimals, or null)
API_FIELDS = {
    "TEM_INS": "temp",
    "TEM_MAX": "temp_max",
    "TEM_MIN": "temp_min",
    "UMD_INS": "humidity",
    "CHUVA": "precipitation_mm",
    "VEN_VEL": "wind_speed_ms",
}
# CSV header (upper case, accents removed, prefix) -> hourly column; both header styles share these
CSV_COLUMNS = {
    "PRECIPITACAO TOTAL, HORARIO": "precipitation_mm",
    "TEMPERATURA DO AR - BULBO SECO, HORARIA": "temp",
    "TEMPERATURA MAXIMA NA HORA ANT.": "temp_max",
    "TEMPERATURA MINIMA NA HORA ANT.": "temp_min",
    "UMIDADE RELATIVA DO AR, HORARIA": "humidity",
    "VENTO, VELOCIDADE HORARIA": "wind_speed_ms",
}
CSV_DATE_HEADERS = ("DATA (YYYY-MM-DD)", "DATA")  # before 2019, from 2019
CSV_HOUR_HEADERS = ("HORA (UTC)", "HORA UTC")


def fetch_inmet_raw(
    client_or_base_url: httpx.Client | str,
    token: str,
    start: date,
    end: date,
    station: str = SALVADOR_STATION,
    policy: HttpPolicy = DEFAULT_POLICY,
) -> bytes:
    """Raw hourly rows of `station` between start and end from the token API.

    An invalid or expired token is answered with a plain-text body, not an HTTP error, so a non-JSON
    answer is reported as a token problem. The token never appears in messages.
    """
    label = f"INMET station {station} {start}..{end}"
    try:
        body, decoded = get_json(
            client_or_base_url, f"/token/estacao/{start}/{end}/{station}/{token}", label=label, policy=policy
        )
    except MalformedResponse as exc:
        raise SourceUnavailable(
            f"{label}: INMET did not answer JSON; the token is probably invalid or expired: {exc}"
        ) from exc
    if not isinstance(decoded, list):
        raise SourceUnavailable(f"{label}: expected a JSON array of hourly rows")
    return body


def fetch_inmet_range(
    client_or_base_url: httpx.Client | str,
    token: str,
    start: date,
    end: date,
    station: str = SALVADOR_STATION,
    policy: HttpPolicy = DEFAULT_POLICY,
) -> bytes:
    """Like `fetch_inmet_raw` over any range: one request per calendar year, merged into one JSON array.

    Years keep each answer small (the API is slow on long ranges) and the merged answer has the shape
    of a single one, so the same parser reads both.
    """
    rows: list[object] = []
    for year in range(start.year, end.year + 1):
        window = (max(start, date(year, 1, 1)), min(end, date(year, 12, 31)))
        rows.extend(json.loads(fetch_inmet_raw(client_or_base_url, token, *window, station=station, policy=policy)))
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def parse_inmet_api(payload: bytes) -> pd.DataFrame:
    """Token API answer -> weather_daily (source 'inmet')."""
    rows = pd.DataFrame(json.loads(payload), columns=["DT_MEDICAO", "HR_MEDICAO", *API_FIELDS])
    values = {column: rows[field] for field, column in API_FIELDS.items()}
    return daily_from_hourly(_hourly(rows["DT_MEDICAO"], rows["HR_MEDICAO"], values), SOURCE)


def parse_inmet_historical(payloads: Sequence[bytes], station: str = SALVADOR_STATION) -> pd.DataFrame:
    """Yearly historical ZIPs (portal.inmet.gov.br/uploads/dadoshistoricos/YYYY.zip) -> weather_daily
    (source 'inmet-historical').

    Takes several years at once because a local day can straddle two files: 31 December after
    21:00 in Salvador is already 1 January in UTC, the clock of the files.
    """
    hourly = [hourly_from_archive(payload, station) for payload in payloads]
    return daily_from_hourly(pd.concat(hourly, ignore_index=True), HISTORICAL_SOURCE)


def hourly_from_archive(payload: bytes, station: str = SALVADOR_STATION) -> pd.DataFrame:
    """The hourly rows of `station` in one yearly ZIP (both header styles).

    Raises zipfile.BadZipFile for a file that is no ZIP, SourceUnavailable when no CSV of the station
    is in it, ValueError for a CSV that cannot be read.
    """
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        hourly = [
            _hourly_from_csv(archive.read(member), station)
            for member in archive.namelist()
            if f"_{station}_" in PurePosixPath(member).name.upper() and member.upper().endswith(".CSV")
        ]
    if not hourly:
        raise SourceUnavailable(f"no CSV of station {station} in the INMET archive")
    return pd.concat(hourly, ignore_index=True)


def _hourly_from_csv(raw: bytes, station: str) -> pd.DataFrame:
    """One yearly station CSV (Latin-1, metadata lines `KEY:;value`, then `;` table) -> hourly frame."""
    lines = raw.decode("latin-1").splitlines()
    n_meta = next((i for i, line in enumerate(lines) if not line.split(";", 1)[0].strip().endswith(":")), 0)
    metadata = dict(_key_value(line) for line in lines[:n_meta])
    if metadata.get("CODIGO (WMO)") != station:
        raise ValueError(f"INMET CSV is for station {metadata.get('CODIGO (WMO)')!r}, not {station!r}")
    table = pd.read_csv(io.StringIO("\n".join(lines[n_meta:])), sep=";", dtype=str, keep_default_na=False)
    table.columns = [_plain(name) for name in table.columns]
    values = {column: table[_find_column(table.columns, prefix)] for prefix, column in CSV_COLUMNS.items()}
    date_col = _find_column(table.columns, *CSV_DATE_HEADERS, exact=True)
    hour_col = _find_column(table.columns, *CSV_HOUR_HEADERS, exact=True)
    return _hourly(table[date_col], table[hour_col], values)


def _hourly(dates: pd.Series, hours: pd.Series, values: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Shared by both formats: dates '2019-01-01'/'2019/01/01', hours '1200'/'12:00'/'1200 UTC'."""
    hhmm = hours.astype(str).str.replace(r"\D", "", regex=True).str[:4]
    time_utc = pd.to_datetime(dates.astype(str).str.replace("/", "-") + " " + hhmm, format="%Y-%m-%d %H%M", utc=True)
    numbers = {column: _to_float(series) for column, series in values.items()}
    return pd.DataFrame(
        {
            "time_utc": time_utc,
            "temp": numbers["temp"],
            "temp_max": numbers["temp_max"],
            "temp_min": numbers["temp_min"],
            "humidity": numbers["humidity"],
            "precipitation_mm": numbers["precipitation_mm"],
            "wind_speed_kmh": numbers["wind_speed_ms"] * MS_TO_KMH,
        }
    )


def _to_float(series: pd.Series) -> pd.Series:
    """'26,4' / '26.4' -> 26.4; empty, null and -9999 -> NaN; anything else is an error."""
    text = series.astype("string").str.strip().str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(text.mask(text.isin(["", MISSING])), errors="raise").astype("float64")
    return numbers.mask(numbers == float(MISSING))


def _key_value(line: str) -> tuple[str, str]:
    key, _, value = line.partition(";")
    return key.strip().rstrip(":"), value.strip().rstrip(";")


def _plain(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper().strip()


def _find_column(columns: pd.Index, *candidates: str, exact: bool = False) -> str:
    for candidate in candidates:
        for column in columns:
            if column == candidate or (not exact and column.startswith(candidate)):
                return column
    raise ValueError(f"INMET CSV has no column {candidates[0]!r} (columns: {list(columns)})")
