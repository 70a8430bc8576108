from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from nova_assets.lib.sources.ibge_sidra import SNAPSHOT, fetch_sidra_raw, parse_sidra
from nova_assets.lib.sources.snapshots import SourceUnavailable, load_snapshot

RECORDED_TARGET = "/values/t/1737/n1/all/v/63/p/all"


def test_snapshot_parses_to_130_consecutive_months():
    ipca = parse_sidra(load_snapshot(SNAPSHOT))
    assert list(ipca.columns) == ["month", "value"]
    assert ipca["value"].dtype == "float64"
    assert len(ipca) == 130
    expected_months = pd.date_range("2015-01-01", "2025-10-01", freq="MS").date.tolist()
    assert ipca["month"].tolist() == expected_months
    assert ipca["value"].iloc[0] == 1.24 and ipca["value"].iloc[-1] == 0.09


def test_columns_are_found_through_the_header_row():
    header = {"V": "Valor", "D3C": "Mês (Código)", "D3N": "Mês"}
    # keys deliberately renamed: the parser must follow the header, not hard-coded keys
    renamed = [{"X": "Valor", "M": "Mês (Código)"}, {"X": "0.50", "M": "202401"}]
    assert parse_sidra(json.dumps(renamed).encode())["value"].tolist() == [0.5]
    rows = [
        header,
        {"V": "-", "D3C": "202401"},
        {"V": "...", "D3C": "202402"},
        {"V": "0.16", "D3C": "202403"},
    ]
    parsed = parse_sidra(json.dumps(rows).encode())
    assert parsed["month"].tolist() == [date(2024, 1, 1), date(2024, 3, 1)]
    assert parsed["value"].tolist() == [0.0, 0.16]  # "-" is SIDRA's exact zero, "..." has no value


def test_fetch_sends_the_recorded_request_and_returns_the_body_unchanged(server):
    snapshot = load_snapshot(SNAPSHOT)
    server.route(RECORDED_TARGET, server.reply(snapshot))
    assert fetch_sidra_raw(server.url) == snapshot
    assert server.requests == [RECORDED_TARGET]


def test_period_selection_goes_into_the_path(server):
    server.route("/values/t/1737/n1/all/v/63/p/202401-202412", server.reply(b"[{}]"))
    fetch_sidra_raw(server.url, periods="202401-202412")
    assert server.requests == ["/values/t/1737/n1/all/v/63/p/202401-202412"]


def test_empty_array_is_refused(server):
    server.route(RECORDED_TARGET, server.reply(b"[]"))
    with pytest.raises(SourceUnavailable, match="header row"):
        fetch_sidra_raw(server.url)
