"""BACEN SGS time series (the SELIC target, series 432) -> DataFrame(date, value).

The SGS API refuses daily series over windows longer than 10 years (HTTP 406 with a Portuguese
`error` message), so long ranges are fetched in windows and merged into one JSON array, the same
shape as a single answer: the parser cannot tell a merged download from a recorded one.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import httpx
import pandas as pd

from nova_assets.lib.sources.http_client import DEFAULT_POLICY, HttpPolicy, HttpStatusError, get_json
from nova_assets.lib.sources.snapshots import SourceUnavailable

SELIC_META = 432
SNAPSHOT_SELIC = "bacen_sgs_432_selic_meta_2015-01-01_2025-11-11.json"
MAX_WINDOW_YEARS = 10


class SgsRequestRefused(SourceUnavailable):
    """SGS answered 406 with its own Portuguese explanation (usually: window over 10 years)."""


def request_windows(start: date, end: date, years: int = MAX_WINDOW_YEARS) -> list[tuple[date, date]]:
    """Consecutive inclusive windows covering start..end, each shorter than `years` years."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    windows = []
    while start <= end:
        window_end = min(_add_years(start, years) - timedelta(days=1), end)
        windows.append((start, window_end))
        start = window_end + timedelta(days=1)
    return windows


def fetch_sgs_raw(
    client_or_base_url: httpx.Client | str,
    code: int,
    start: date,
    end: date,
    policy: HttpPolicy = DEFAULT_POLICY,
) -> bytes:
    """Raw JSON array of series `code` between start and end (inclusive), one request per window."""
    rows: list[dict[str, str]] = []
    for window_start, window_end in request_windows(start, end):
        label = f"BACEN SGS {code} {window_start:%d/%m/%Y}-{window_end:%d/%m/%Y}"
        params = {
            "formato": "json",
            "dataInicial": f"{window_start:%d/%m/%Y}",
            "dataFinal": f"{window_end:%d/%m/%Y}",
        }
        try:
            _, decoded = get_json(
                client_or_base_url,
                f"/dados/serie/bcdata.sgs.{code}/dados",
                label=label,
                params=params,
                policy=policy,
            )
        except HttpStatusError as exc:
            if exc.status_code == 406:
                raise SgsRequestRefused(f"{label}: SGS refused the request: {_sgs_error(exc.body)}") from exc
            raise
        if not isinstance(decoded, list):
            raise SourceUnavailable(f"{label}: expected a JSON array, got {type(decoded).__name__}")
        rows.extend(decoded)
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def parse_sgs(payload: bytes) -> pd.DataFrame:
    """SGS answer `[{"data": "dd/mm/yyyy", "valor": "11.75"}]` -> DataFrame(date, value float64)."""
    frame = pd.DataFrame(json.loads(payload), columns=["data", "valor"])
    out = pd.DataFrame(
        {
            "date": pd.to_datetime(frame["data"], format="%d/%m/%Y").dt.date,
            "value": pd.to_numeric(frame["valor"]).astype("float64"),
        }
    )
    return out.drop_duplicates("date", keep="last").sort_values("date", ignore_index=True)


def _sgs_error(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", errors="replace")[:300]


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February -> 1 March
        return day.replace(year=day.year + years, month=3, day=1)
