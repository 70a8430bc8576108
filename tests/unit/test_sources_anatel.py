"""ANATEL parser.

The fixture is hand-made (no ANATEL recording exists): see tests/fixtures/anatel/README.md.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nova_assets.lib.sources.anatel import parse_anatel_5g

EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "anatel" / "estacoes_licenciadas_sample.csv"
MONTHS = [
    date(2022, 8, 1),
    date(2022, 9, 1),
    date(2022, 10, 1),
    date(2022, 11, 1),
    date(2022, 12, 1),
    date(2023, 1, 1),
]


def utf8_pipe_export() -> bytes:
    """The same export as downloaded in the other flavour: UTF-8 with BOM, '|' separated."""
    return b"\xef\xbb\xbf" + EXPORT.read_bytes().decode("latin-1").replace(";", "|").encode("utf-8")


@pytest.mark.parametrize("payload", [EXPORT.read_bytes(), utf8_pipe_export()], ids=["latin1-semicolon", "utf8-pipe"])
def test_salvador_counts_each_station_once_in_its_first_licence_month(payload):
    monthly = parse_anatel_5g(payload)
    assert list(monthly.columns) == ["month", "ibge_code", "stations_5g_new", "stations_5g_total"]
    assert monthly["month"].tolist() == MONTHS
    assert (monthly["ibge_code"] == "2927408").all()
    assert monthly["stations_5g_new"].tolist() == [2, 0, 0, 2, 0, 1]
    assert monthly["stations_5g_total"].tolist() == [2, 2, 2, 4, 4, 5]
    assert monthly["stations_5g_new"].dtype == "int64" and monthly["stations_5g_total"].dtype == "int64"


def test_whole_state_uses_the_ibge_state_code():
    monthly = parse_anatel_5g(EXPORT.read_bytes(), area="BA")
    assert monthly["month"].tolist() == MONTHS
    assert (monthly["ibge_code"] == "29").all()
    assert monthly["stations_5g_new"].tolist() == [2, 1, 0, 2, 0, 2]
    assert monthly["stations_5g_total"].tolist() == [2, 3, 3, 5, 5, 7]


def test_brazilian_date_format_is_accepted():
    text = EXPORT.read_bytes().decode("latin-1").replace("2022-08-15", "15/08/2022")
    assert parse_anatel_5g(text.encode("latin-1"))["stations_5g_new"].tolist() == [2, 0, 0, 2, 0, 1]


def test_area_without_5g_gives_an_empty_typed_table():
    monthly = parse_anatel_5g(EXPORT.read_bytes(), area="2900108")
    assert monthly.empty
    assert monthly.dtypes.astype(str).to_dict() == {
        "month": "object",
        "ibge_code": "object",
        "stations_5g_new": "int64",
        "stations_5g_total": "int64",
    }


def test_missing_column_is_reported():
    text = EXPORT.read_bytes().decode("latin-1").replace("DataPrimeiroLicenciamento", "Outra")
    with pytest.raises(ValueError, match="DataPrimeiroLicenciamento"):
        parse_anatel_5g(text.encode("latin-1"))


def test_unreadable_date_is_reported():
    text = EXPORT.read_bytes().decode("latin-1").replace("2022-11-03", "3 nov 2022")
    with pytest.raises(ValueError, match="3 nov 2022"):
        parse_anatel_5g(text.encode("latin-1"))
