from __future__ import annotations

import json
from datetime import date

import pytest

from nova_assets.lib.sources.bacen_ptax import SNAPSHOT, fetch_ptax_raw, parse_ptax
from nova_assets.lib.sources.snapshots import SourceUnavailable, load_snapshot

ODATA_ROOT = "/olinda/servico/PTAX/versao/v1/odata"
# The request the snapshot answers, exactly as recorded (see data/snapshots/README.md).
RECORDED_TARGET = (
    ODATA_ROOT + "/CotacaoMoedaPeriodo(moeda=@moeda,dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)"
    "?@moeda='USD'&@dataInicial='01-02-2015'&@dataFinalCotacao='11-11-2025'&$format=json"
)


def test_snapshot_keeps_one_closing_rate_per_business_day():
    quotes = json.loads(load_snapshot(SNAPSHOT))["value"]
    closing_days = {q["dataHoraCotacao"][:10] for q in quotes if q["tipoBoletim"] == "Fechamento"}
    usd = parse_ptax(load_snapshot(SNAPSHOT))

    assert list(usd.columns) == ["date", "value"]
    assert usd["value"].dtype == "float64"
    assert len(usd) == len(closing_days) == 2725
    assert usd["date"].is_unique and usd["date"].is_monotonic_increasing
    assert {d.isoformat() for d in usd["date"]} == closing_days
    assert all(d.weekday() < 5 for d in usd["date"])
    assert usd["date"].iloc[0] == date(2015, 1, 2)
    # recorded before the day's closing bulletin: only Abertura/Intermediário exist for 2025-11-11
    assert usd["date"].iloc[-1] == date(2025, 11, 10) and usd["value"].iloc[-1] == 5.3181


def test_closing_rate_is_the_sell_rate_not_an_intraday_one():
    usd = parse_ptax(load_snapshot(SNAPSHOT)).set_index("date")["value"]
    # 2015-01-02: Abertura 2.6794, Intermediário 2.6889..., Fechamento cotacaoVenda
    quotes = json.loads(load_snapshot(SNAPSHOT))["value"]
    closing = [q for q in quotes if q["dataHoraCotacao"].startswith("2015-01-02") and q["tipoBoletim"] == "Fechamento"]
    assert usd[date(2015, 1, 2)] == closing[0]["cotacaoVenda"] != closing[0]["cotacaoCompra"]
    assert usd[date(2025, 4, 23)] == 5.688  # the day recorded with two Fechamento rows


def test_latest_closing_bulletin_of_a_day_wins():
    def quote(stamp: str, rate: float, bulletin: str = "Fechamento") -> dict:
        return {
            "cotacaoCompra": rate - 0.001,
            "cotacaoVenda": rate,
            "dataHoraCotacao": stamp,
            "tipoBoletim": bulletin,
        }

    answer = {
        "value": [
            quote("2025-04-23 13:06:30.443", 5.70),
            quote("2025-04-23 13:06:30.100", 5.60),
            quote("2025-04-23 13:30:00.000", 9.99, "Intermediário"),
        ]
    }
    assert parse_ptax(json.dumps(answer).encode())["value"].tolist() == [5.70]


def test_fetch_sends_the_recorded_request_and_returns_the_body_unchanged(server):
    snapshot = load_snapshot(SNAPSHOT)
    server.route(RECORDED_TARGET.split("?")[0], server.reply(snapshot))
    payload = fetch_ptax_raw(server.url + ODATA_ROOT, date(2015, 1, 2), date(2025, 11, 11))
    assert server.requests == [RECORDED_TARGET]
    assert payload == snapshot


def test_answer_without_value_array_is_refused(server):
    server.route(RECORDED_TARGET.split("?")[0], server.reply(b'{"@odata.context": "x"}'))
    with pytest.raises(SourceUnavailable, match="no OData 'value' array"):
        fetch_ptax_raw(server.url + ODATA_ROOT, date(2015, 1, 2), date(2025, 11, 11))
