from __future__ import annotations

import json
from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from nova_assets.lib.sources.bacen_sgs import (
    SNAPSHOT_SELIC,
    SgsRequestRefused,
    fetch_sgs_raw,
    parse_sgs,
    request_windows,
)
from nova_assets.lib.sources.snapshots import SourceUnavailable, load_snapshot

SGS_PATH = "/dados/serie/bcdata.sgs.432/dados"
# The documented 406 answer of SGS to a daily series asked over more than 10 years.
WINDOW_ERROR = json.dumps(
    {
        "error": "O sistema aceita uma janela de consulta de, no máximo, 10 anos em séries de periodicidade diária",
        "message": "Para acessar uma série de periodicidade diária, é necessário informar a dataInicial",
    },
    ensure_ascii=False,
).encode("utf-8")


def _day(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


def fake_sgs(server):
    """Answers like SGS: 406 for windows over 10 years, else the recorded rows inside the window."""
    rows = json.loads(load_snapshot(SNAPSHOT_SELIC))

    def answer(target: str):
        query = {key: values[0] for key, values in parse_qs(urlsplit(target).query).items()}
        start, end = _day(query["dataInicial"]), _day(query["dataFinal"])
        if query.get("formato") != "json" or end > start.replace(year=start.year + 10):
            return server.reply(WINDOW_ERROR, status=406)
        inside = [row for row in rows if start <= _day(row["data"]) <= end]
        return server.reply(json.dumps(inside, separators=(",", ":")).encode())

    return answer


def test_snapshot_parses_to_one_row_per_calendar_day():
    selic = parse_sgs(load_snapshot(SNAPSHOT_SELIC))
    assert len(selic) == 3968
    assert list(selic.columns) == ["date", "value"]
    assert selic["value"].dtype == "float64"
    assert selic["date"].iloc[0] == date(2015, 1, 1) and selic["value"].iloc[0] == 11.75
    assert selic["date"].iloc[-1] == date(2025, 11, 11) and selic["value"].iloc[-1] == 15.0
    assert (selic["date"].diff().iloc[1:].map(lambda gap: gap.days) == 1).all()


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (
            date(2015, 1, 1),
            date(2025, 11, 11),
            [(date(2015, 1, 1), date(2024, 12, 31)), (date(2025, 1, 1), date(2025, 11, 11))],
        ),
        (date(2015, 1, 1), date(2024, 12, 31), [(date(2015, 1, 1), date(2024, 12, 31))]),
        (date(2025, 11, 1), date(2025, 11, 1), [(date(2025, 11, 1), date(2025, 11, 1))]),
        (
            date(1996, 2, 29),
            date(2020, 1, 1),
            [
                (date(1996, 2, 29), date(2006, 2, 28)),
                (date(2006, 3, 1), date(2016, 2, 29)),
                (date(2016, 3, 1), date(2020, 1, 1)),
            ],
        ),
    ],
)
def test_request_windows_never_exceed_ten_years(start, end, expected):
    assert request_windows(start, end) == expected


def test_request_windows_rejects_reversed_range():
    with pytest.raises(ValueError, match="before start"):
        request_windows(date(2025, 1, 2), date(2025, 1, 1))


def test_long_range_is_fetched_in_windows_and_merged(server):
    server.route(SGS_PATH, fake_sgs(server))
    payload = fetch_sgs_raw(server.url, 432, date(2015, 1, 1), date(2025, 11, 11))
    asked = [parse_qs(urlsplit(target).query) for target in server.hits(SGS_PATH)]
    assert asked == [
        {"formato": ["json"], "dataInicial": ["01/01/2015"], "dataFinal": ["31/12/2024"]},
        {"formato": ["json"], "dataInicial": ["01/01/2025"], "dataFinal": ["11/11/2025"]},
    ]
    assert parse_sgs(payload).equals(parse_sgs(load_snapshot(SNAPSHOT_SELIC)))


def test_fake_sgs_really_refuses_long_windows(server):
    """Guards the test above: without the split, the fake server would answer 406."""
    answer = fake_sgs(server)
    refused = answer(f"{SGS_PATH}?formato=json&dataInicial=01/01/2015&dataFinal=11/11/2025")
    assert refused.status == 406


def test_406_window_error_is_raised_with_the_portuguese_message(server):
    server.route(SGS_PATH, server.reply(WINDOW_ERROR, status=406))
    with pytest.raises(SgsRequestRefused, match="janela de consulta de, no máximo, 10 anos"):
        fetch_sgs_raw(server.url, 432, date(2020, 1, 1), date(2020, 12, 31))
    assert len(server.hits(SGS_PATH)) == 1


def test_406_with_a_non_json_body_still_gives_a_clear_error(server):
    server.route(SGS_PATH, server.reply(b"Not Acceptable", status=406, content_type="text/plain"))
    with pytest.raises(SgsRequestRefused, match="Not Acceptable"):
        fetch_sgs_raw(server.url, 432, date(2020, 1, 1), date(2020, 12, 31))


def test_non_array_answer_is_refused(server):
    server.route(SGS_PATH, server.reply(b'{"erro": {"statusCode": 400}}'))
    with pytest.raises(SourceUnavailable, match="expected a JSON array"):
        fetch_sgs_raw(server.url, 432, date(2020, 1, 1), date(2020, 12, 31))


def test_monthly_series_parses_the_same_way():
    payload = b'[{"data":"01/09/2025","valor":"0.48"},{"data":"01/10/2025","valor":"0.09"}]'
    ipca = parse_sgs(payload)
    assert ipca["date"].tolist() == [date(2025, 9, 1), date(2025, 10, 1)]
    assert ipca["value"].tolist() == [0.48, 0.09]
