"""IBGE SIDRA table 1737 variable 63 (IPCA monthly % change, Brasil) -> economics_ipca (month, value).

SIDRA answers a JSON array whose first element is a header row naming the coded keys
(`D3C` -> "Mês (Código)"), so columns are found through that header, not by position.
"""

from __future__ import annotations

import json

import httpx
import pandas as pd

from nova_assets.lib.sources.http_client import DEFAULT_POLICY, HttpPolicy, get_json
from nova_assets.lib.sources.snapshots import SourceUnavailable

SNAPSHOT = "ibge_sidra_ipca_monthly_2015-01_2025-10.json"
# SIDRA's special symbols: "-" is an exact zero; "..", "..." and "X" mean no value (n/a, missing, withheld).
SIDRA_SYMBOLS = {"-": "0", "..": None, "...": None, "X": None}
IPCA_TABLE = 1737
IPCA_MONTHLY_CHANGE = 63


def fetch_sidra_raw(
    client_or_base_url: httpx.Client | str,
    periods: str = "all",
    table: int = IPCA_TABLE,
    variable: int = IPCA_MONTHLY_CHANGE,
    policy: HttpPolicy = DEFAULT_POLICY,
) -> bytes:
    """Raw SIDRA answer for Brasil (n1); `periods` is SIDRA syntax: 'all', 'last 12', '201501-202510'."""
    label = f"IBGE SIDRA t{table} v{variable} p{periods}"
    path = f"/values/t/{table}/n1/all/v/{variable}/p/{periods}"
    body, decoded = get_json(client_or_base_url, path, label=label, policy=policy)
    if not isinstance(decoded, list) or not decoded:
        raise SourceUnavailable(f"{label}: expected a JSON array starting with the header row")
    return body


def parse_sidra(payload: bytes) -> pd.DataFrame:
    """SIDRA rows -> DataFrame(month = first day of month, value float64); months without a value dropped."""
    header, *rows = json.loads(payload)
    by_label = {label: key for key, label in header.items()}
    month_key, value_key = by_label["Mês (Código)"], by_label["Valor"]
    frame = pd.DataFrame(rows, columns=[month_key, value_key])
    out = pd.DataFrame(
        {
            "month": pd.to_datetime(frame[month_key], format="%Y%m").dt.date,
            "value": pd.to_numeric(frame[value_key].replace(SIDRA_SYMBOLS)),
        }
    )
    return out.dropna(subset=["value"]).astype({"value": "float64"}).sort_values("month", ignore_index=True)
