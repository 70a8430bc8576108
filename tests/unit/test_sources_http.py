"""Every HTTP connector against a local server: retries, timeouts and bad answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from nova_assets.lib.sources import bacen_ptax, bacen_sgs, ibge_sidra, inmet, openmeteo
from nova_assets.lib.sources.http_client import HttpPolicy, HttpStatusError
from nova_assets.lib.sources.snapshots import SourceUnavailable, load_snapshot

INMET_API_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "inmet" / "api_A401_2019-01-01_2019-01-02.json"
PTAX_ROOT = "/olinda/servico/PTAX/versao/v1/odata"
TOKEN = "SECRET-TOKEN-123"


@dataclass(frozen=True)
class Connector:
    """How to call one connector's live fetch and which path and good answer it expects."""

    name: str
    path: str
    good_body: Callable[[], bytes]
    fetch: Callable[[str, HttpPolicy], bytes]  # (server url, policy) -> raw bytes
    parse: Callable[[bytes], object]


CONNECTORS = [
    Connector(
        "sgs",
        "/dados/serie/bcdata.sgs.432/dados",
        lambda: load_snapshot(bacen_sgs.SNAPSHOT_SELIC),
        lambda url, policy: bacen_sgs.fetch_sgs_raw(url, 432, date(2016, 1, 1), date(2025, 11, 11), policy),
        bacen_sgs.parse_sgs,
    ),
    Connector(
        "ptax",
        PTAX_ROOT + "/CotacaoMoedaPeriodo(moeda=@moeda,dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)",
        lambda: load_snapshot(bacen_ptax.SNAPSHOT),
        lambda url, policy: bacen_ptax.fetch_ptax_raw(
            url + PTAX_ROOT, date(2015, 1, 2), date(2025, 11, 11), policy=policy
        ),
        bacen_ptax.parse_ptax,
    ),
    Connector(
        "sidra",
        "/values/t/1737/n1/all/v/63/p/all",
        lambda: load_snapshot(ibge_sidra.SNAPSHOT),
        lambda url, policy: ibge_sidra.fetch_sidra_raw(url, policy=policy),
        ibge_sidra.parse_sidra,
    ),
    Connector(
        "openmeteo",
        "/v1/archive",
        lambda: load_snapshot(openmeteo.SNAPSHOT),
        lambda url, policy: openmeteo.fetch_openmeteo_raw(url, date(2021, 11, 12), date(2025, 11, 11), policy=policy),
        openmeteo.parse_openmeteo,
    ),
    Connector(
        "inmet",
        f"/token/estacao/2019-01-01/2019-01-02/A401/{TOKEN}",
        INMET_API_FIXTURE.read_bytes,
        lambda url, policy: inmet.fetch_inmet_raw(url, TOKEN, date(2019, 1, 1), date(2019, 1, 2), policy=policy),
        inmet.parse_inmet_api,
    ),
]
BY_NAME = pytest.mark.parametrize("connector", CONNECTORS, ids=[c.name for c in CONNECTORS])


@BY_NAME
def test_5xx_is_retried_until_success(server, fast_policy, connector):
    good = connector.good_body()
    server.route(
        connector.path,
        server.reply(b"Service Unavailable", status=503, content_type="text/plain"),
        server.reply(b"<html>Bad Gateway</html>", status=502, content_type="text/html"),
        server.reply(good),
    )
    payload = connector.fetch(server.url, fast_policy)
    assert len(server.hits(connector.path)) == 3
    assert connector.parse(payload).equals(connector.parse(good))


@BY_NAME
def test_persistent_5xx_gives_up_after_the_policy_attempts(server, fast_policy, connector):
    server.route(connector.path, server.reply(b"Internal Server Error", status=500, content_type="text/plain"))
    with pytest.raises(SourceUnavailable, match="failed after 3 attempts: HTTP 500"):
        connector.fetch(server.url, fast_policy)
    assert len(server.hits(connector.path)) == 3


@BY_NAME
def test_timeout_is_retried_then_reported(server, fast_policy, connector):
    server.route(connector.path, server.reply(connector.good_body(), delay_s=0.6))
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="ReadTimeout"):
        connector.fetch(server.url, fast_policy)
    assert time.monotonic() - started < 3 * fast_policy.timeout_s + 0.5
    assert len(server.hits(connector.path)) == 3


@BY_NAME
def test_empty_body_is_an_error_without_retry(server, fast_policy, connector):
    server.route(connector.path, server.reply(b""))
    with pytest.raises(SourceUnavailable, match="empty response body"):
        connector.fetch(server.url, fast_policy)
    assert len(server.hits(connector.path)) == 1


@BY_NAME
def test_truncated_json_is_an_error(server, fast_policy, connector):
    server.route(connector.path, server.reply(connector.good_body()[:500]))
    with pytest.raises(SourceUnavailable, match="not JSON"):
        connector.fetch(server.url, fast_policy)


@BY_NAME
def test_4xx_is_not_retried(server, fast_policy, connector):
    server.route(connector.path, server.reply(b'{"error": "not found"}', status=404))
    with pytest.raises(HttpStatusError, match="HTTP 404") as raised:
        connector.fetch(server.url, fast_policy)
    assert raised.value.status_code == 404
    assert len(server.hits(connector.path)) == 1


@BY_NAME
def test_connection_refused_is_retried_then_reported(closed_port_url, fast_policy, connector):
    with pytest.raises(SourceUnavailable, match="failed after 3 attempts: ConnectError"):
        connector.fetch(closed_port_url, fast_policy)


def test_error_messages_never_show_the_inmet_token(server, fast_policy):
    inmet_connector = CONNECTORS[-1]
    server.route(inmet_connector.path, server.reply(b"", status=500))
    with pytest.raises(SourceUnavailable) as raised:
        inmet_connector.fetch(server.url, fast_policy)
    assert TOKEN not in str(raised.value)
