"""BACEN PTAX (Olinda OData) USD/BRL closing rate -> economics_usd_brl (date, value).

PTAX publishes several bulletins a day (Abertura, Intermediário, Fechamento); only the closing
bulletin is the official daily rate used in contracts, so only it is kept.
"""

from __future__ import annotations

import json
from datetime import date

import httpx
import pandas as pd

from nova_assets.lib.sources.http_client import DEFAULT_POLICY, HttpPolicy, get_json
from nova_assets.lib.sources.snapshots import SourceUnavailable

SNAPSHOT = "bacen_ptax_usd_2015-01-02_2025-11-11.json"
CLOSING_BULLETIN = "Fechamento"


def ptax_path(currency: str, start: date, end: date) -> str:
    """OData function call with `@` parameters, written literally as Olinda documents it."""
    return (
        "/CotacaoMoedaPeriodo(moeda=@moeda,dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
        f"?@moeda='{currency}'&@dataInicial='{start:%m-%d-%Y}'&@dataFinalCotacao='{end:%m-%d-%Y}'"
        "&$format=json"
    )


def fetch_ptax_raw(
    client_or_base_url: httpx.Client | str,
    start: date,
    end: date,
    currency: str = "USD",
    policy: HttpPolicy = DEFAULT_POLICY,
) -> bytes:
    """Raw OData answer with every PTAX bulletin of `currency` between start and end."""
    label = f"BACEN PTAX {currency} {start}..{end}"
    body, decoded = get_json(client_or_base_url, ptax_path(currency, start, end), label=label, policy=policy)
    if not isinstance(decoded, dict) or not isinstance(decoded.get("value"), list):
        raise SourceUnavailable(f"{label}: answer has no OData 'value' array")
    return body


def parse_ptax(payload: bytes) -> pd.DataFrame:
    """OData `value` rows -> one row per date with the Fechamento sell rate (cotacaoVenda).

    A day can carry the closing bulletin twice (seen on 2025-04-23); the latest one wins.
    """
    quotes = pd.DataFrame(json.loads(payload)["value"], columns=["cotacaoVenda", "dataHoraCotacao", "tipoBoletim"])
    closing = quotes[quotes["tipoBoletim"] == CLOSING_BULLETIN]
    stamp = pd.to_datetime(closing["dataHoraCotacao"], format="ISO8601")
    out = pd.DataFrame({"stamp": stamp, "date": stamp.dt.date, "value": closing["cotacaoVenda"].astype("float64")})
    out = out.sort_values("stamp").drop_duplicates("date", keep="last")
    return out[["date", "value"]].reset_index(drop=True)
