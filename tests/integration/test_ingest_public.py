"""The public-source raw assets in live mode against a local server replaying the recorded answers.

The real assets run with their real connectors; only the base URLs (resource fields, the same ones
NOVA_*_URL set) point at 127.0.0.1. Outages must end in the last good data, a warning in the
metadata and a failed freshness check, never in an empty table.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dagster as dg
import pandas as pd
import pytest

from nova_assets.defs.ingest.public_apis import defs as public_defs
from nova_assets.lib.sources import bacen_ptax, bacen_sgs, ibge_sidra, openmeteo
from nova_assets.lib.sources.snapshots import SNAPSHOT_DIR, load_snapshot
from nova_assets.resources import SourcesResource
from tests.http_server import LocalServer, Reply
from tests.integration.ingest_support import checks, failed_checks, materialize, metadata, read

AS_OF = "2025-11-11"
PTAX_ROOT = "/olinda/servico/PTAX/versao/v1/odata"
PATHS = {
    "economics_selic": "/dados/serie/bcdata.sgs.432/dados",
    "economics_usd_brl": PTAX_ROOT
    + "/CotacaoMoedaPeriodo(moeda=@moeda,dataInicial=@dataInicial,dataFinalCotacao=@dataFinalCotacao)",
    "economics_ipca": "/values/t/1737/n1/all/v/63/p/201501-202511",
    "weather_daily": "/v1/archive",
}
SNAPSHOTS = {
    "economics_selic": (bacen_sgs.SNAPSHOT_SELIC, bacen_sgs.parse_sgs),
    "economics_usd_brl": (bacen_ptax.SNAPSHOT, bacen_ptax.parse_ptax),
    "economics_ipca": (ibge_sidra.SNAPSHOT, ibge_sidra.parse_sidra),
    "weather_daily": (openmeteo.SNAPSHOT, openmeteo.parse_openmeteo),
}
ASSETS = {asset.key.path[-1]: asset for asset in public_defs().assets}
INMET_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "inmet" / "api_A401_2019-01-01_2019-01-02.json"
TOKEN = "SECRET-TOKEN-123"
# The documented SGS answer to a daily series asked over more than 10 years
WINDOW_ERROR = json.dumps(
    {"error": "O sistema aceita uma janela de consulta de, no máximo, 10 anos em séries de periodicidade diária"},
    ensure_ascii=False,
).encode()


def sources(server: LocalServer, tmp_path: Path, **overrides: object) -> SourcesResource:
    settings = {
        "landing_dir": str(tmp_path / "landing"),
        "snapshot_dir": str(SNAPSHOT_DIR),
        "offline": "0",
        "as_of_date": AS_OF,
        "api_urls": {
            "bacen_sgs": server.url,
            "bacen_ptax": server.url + PTAX_ROOT,
            "ibge_sidra": server.url,
            "openmeteo": server.url,
            "inmet": server.url,
        },
        "http_timeout_s": "10",  # generous: a loaded machine must not turn a good answer into an outage
        "http_attempts": "2",
        "http_backoff_s": "0.01",
    }
    return SourcesResource(**{**settings, **overrides})


def run(tables: list[str], resource: SourcesResource, tmp_path: Path) -> dg.ExecuteInProcessResult:
    return materialize([ASSETS[t] for t in tables], resource, str(tmp_path / "lake"))


def run_partition(
    table: str, resource: SourcesResource, tmp_path: Path, partition: str | tuple[str, str]
) -> dg.ExecuteInProcessResult:
    return materialize([ASSETS[table]], resource, str(tmp_path / "lake"), partition)


def recorded(table: str) -> pd.DataFrame:
    name, parse = SNAPSHOTS[table]
    return parse(load_snapshot(name))


def sgs(rows: list[dict[str, str]] | None = None):
    """Answers like SGS: 406 over windows longer than 10 years, else the rows inside the window."""
    rows = rows if rows is not None else json.loads(load_snapshot(bacen_sgs.SNAPSHOT_SELIC))

    def day(text: str) -> date:
        return datetime.strptime(text, "%d/%m/%Y").date()

    def answer(target: str) -> Reply:
        query = {key: values[0] for key, values in parse_qs(urlsplit(target).query).items()}
        start, end = day(query["dataInicial"]), day(query["dataFinal"])
        if end > start.replace(year=start.year + 10):
            return Reply(WINDOW_ERROR, status=406)
        return Reply(json.dumps([r for r in rows if start <= day(r["data"]) <= end]).encode())

    return answer


def serve_recorded(server: LocalServer) -> None:
    server.route(PATHS["economics_selic"], sgs())
    for table in ("economics_usd_brl", "economics_ipca", "weather_daily"):
        server.route(PATHS[table], server.reply(load_snapshot(SNAPSHOTS[table][0])))


def test_every_public_source_runs_live_and_keeps_each_answer_in_bronze(server, tmp_path) -> None:
    serve_recorded(server)
    result = run(list(PATHS), sources(server, tmp_path), tmp_path)
    assert result.success
    for table in PATHS:
        info = metadata(result, "raw", table)
        assert (info["origin"], info["mode"], info["status"]) == ("live", "live", "written"), table
        assert failed_checks(result, table) == {}, table
        assert info["quality_score"] == 1.0
        assert server.hits(PATHS[table]), table
        stored = Path(info["bronze"])
        assert stored.parent.parent == tmp_path / "lake" / "bronze" / table
        pd.testing.assert_frame_equal(
            SNAPSHOTS[table][1](stored.read_bytes()), read(str(tmp_path / "lake"), "raw", table)
        )
    pd.testing.assert_frame_equal(read(str(tmp_path / "lake"), "raw", "economics_selic"), recorded("economics_selic"))
    windows = [parse_qs(urlsplit(t).query)["dataInicial"][0] for t in server.hits(PATHS["economics_selic"])]
    assert windows == ["01/01/2015", "01/01/2025"]  # 10-year windows, no 406


OUTAGES = {
    "http_503": Reply(b"Service Unavailable", status=503, content_type="text/plain"),
    "timeout": Reply(b"[]", delay_s=0.6),
    "empty_body": Reply(b""),
    "malformed_json": Reply(b'[{"data": "01/01/2015", "valor": '),
    "window_error_406": Reply(WINDOW_ERROR, status=406),
    "html_error_page": Reply(b"<html>Erro interno</html>", content_type="text/html"),
}


@pytest.mark.parametrize("outage", OUTAGES, ids=list(OUTAGES))
def test_an_outage_falls_back_to_the_snapshot_with_a_warning_and_a_failed_freshness_check(
    server, tmp_path, outage: str
) -> None:
    server.route(PATHS["economics_selic"], OUTAGES[outage])
    timeout = {"http_timeout_s": "0.3"} if outage == "timeout" else {}  # shorter than the reply's 0.6 s delay
    result = run(["economics_selic"], sources(server, tmp_path, **timeout), tmp_path)
    assert result.success  # stale data is a warning, not a stop
    info = metadata(result, "raw", "economics_selic")
    assert info["origin"] == f"snapshot {bacen_sgs.SNAPSHOT_SELIC}"
    assert info["warning"].startswith("STALE: live fetch failed: BACEN SGS 432 01/01/2015-31/12/2024")
    fresh = checks(result, "economics_selic")["fresh"]
    assert not fresh.passed and fresh.severity == dg.AssetCheckSeverity.WARN
    assert fresh.description == f"stale: live fetch failed, data from snapshot {bacen_sgs.SNAPSHOT_SELIC}"
    assert info["quality_score"] < 1.0
    table = read(str(tmp_path / "lake"), "raw", "economics_selic")
    pd.testing.assert_frame_equal(table, recorded("economics_selic"))  # never an empty table
    status = json.loads((tmp_path / "lake" / "status" / "economics_selic.json").read_text())
    assert status["failed_checks"] == ["fresh"] and status["warning"] == info["warning"]


def test_after_a_good_day_an_outage_uses_the_last_good_live_answer(server, tmp_path) -> None:
    rows = json.loads(load_snapshot(bacen_sgs.SNAPSHOT_SELIC))
    rows[-1]["valor"] = "14.75"  # something the recorded snapshot does not say
    server.route(PATHS["economics_selic"], sgs(rows), sgs(rows), Reply(b"", status=502))
    assert run(["economics_selic"], sources(server, tmp_path), tmp_path).success
    good_day = read(str(tmp_path / "lake"), "raw", "economics_selic")
    result = run(["economics_selic"], sources(server, tmp_path), tmp_path)
    info = metadata(result, "raw", "economics_selic")
    assert info["origin"].startswith("bronze ") and "failed after 2 attempts" in info["warning"]
    assert not checks(result, "economics_selic")["fresh"].passed
    table = read(str(tmp_path / "lake"), "raw", "economics_selic")
    pd.testing.assert_frame_equal(table, good_day)
    assert table["value"].iloc[-1] == 14.75


def test_a_live_answer_with_dates_after_the_as_of_date_does_not_replace_the_table(server, tmp_path) -> None:
    offline = run(["economics_selic"], sources(server, tmp_path, offline="1"), tmp_path)
    assert offline.success and server.requests == []  # offline never touches the network
    rows = [*json.loads(load_snapshot(bacen_sgs.SNAPSHOT_SELIC)), {"data": "20/11/2025", "valor": "15.00"}]
    server.route(PATHS["economics_selic"], Reply(json.dumps(rows).encode()))  # a server ignoring the window
    result = run(["economics_selic"], sources(server, tmp_path), tmp_path)
    assert not result.success  # blocking check: nothing downstream may use it
    assert "2025-11-20" in failed_checks(result, "economics_selic")["date_range"]
    assert metadata(result, "raw", "economics_selic")["status"].startswith("NOT WRITTEN")
    pd.testing.assert_frame_equal(read(str(tmp_path / "lake"), "raw", "economics_selic"), recorded("economics_selic"))
    stored = list((tmp_path / "lake" / "bronze" / "economics_selic" / "bacen-sgs-432").iterdir())
    assert len(stored) == 1 and b"20/11/2025" in stored[0].read_bytes()  # kept for a replay


def test_a_gap_in_a_live_series_is_reported_but_loaded(server, tmp_path) -> None:
    rows = [r for r in json.loads(load_snapshot(bacen_sgs.SNAPSHOT_SELIC)) if r["data"] != "05/03/2025"]
    server.route(PATHS["economics_selic"], sgs(rows))
    result = run(["economics_selic"], sources(server, tmp_path), tmp_path)
    assert result.success
    assert failed_checks(result, "economics_selic") == {"no_gaps": "1 of 3968 daily dates missing, e.g. ['2025-03-05']"}
    assert len(read(str(tmp_path / "lake"), "raw", "economics_selic")) == 3967


def inmet_answer(target: str) -> Reply:
    """The hand-made INMET fixture (2019-01-01/02) for the 2019 request, no rows for the other years."""
    return Reply(INMET_FIXTURE.read_bytes() if "/2019-01-01/2019-12-31/" in target else b"[]")


def test_inmet_with_a_token_is_the_weather_source(server, tmp_path) -> None:
    server.route("/token/estacao/", inmet_answer, prefix=True)
    result = run(["weather_daily"], sources(server, tmp_path, weather_source="inmet", inmet_token=TOKEN), tmp_path)
    assert result.success
    info = metadata(result, "raw", "weather_daily")
    assert (info["origin"], info["source"]) == ("live", "inmet")
    assert len(server.hits("/token/estacao/", prefix=True)) == 11  # one request per year, 2015..2025
    assert server.hits("/v1/archive") == []
    assert Path(info["bronze"]).parent.name == "inmet-a401"
    assert read(str(tmp_path / "lake"), "raw", "weather_daily")["date"].tolist() == [date(2019, 1, 1)]
    # only the fixture's day: the series is old, so the freshness check says so
    assert "stale: newest date 2019-01-01" in failed_checks(result, "weather_daily")["fresh"]
    assert TOKEN not in json.dumps({k: str(v) for k, v in info.items()})


def test_an_invalid_inmet_token_falls_back_with_a_clear_warning(server, tmp_path) -> None:
    server.route("/token/estacao/", Reply("Token Inválido".encode(), content_type="text/plain"), prefix=True)
    result = run(["weather_daily"], sources(server, tmp_path, weather_source="inmet", inmet_token=TOKEN), tmp_path)
    assert result.success
    info = metadata(result, "raw", "weather_daily")
    assert "the token is probably invalid or expired" in info["warning"] and TOKEN not in info["warning"]
    assert info["origin"] == f"snapshot {openmeteo.SNAPSHOT}" and info["source"] == "open-meteo"
    assert not checks(result, "weather_daily")["fresh"].passed


def test_inmet_without_a_token_uses_open_meteo_and_says_so(server, tmp_path) -> None:
    serve_recorded(server)
    result = run(["weather_daily"], sources(server, tmp_path, weather_source="inmet"), tmp_path)
    assert result.success
    info = metadata(result, "raw", "weather_daily")
    assert info["notes"] == "NOVA_WEATHER_SOURCE=inmet but NOVA_INMET_TOKEN is not set: using Open-Meteo instead"
    assert (info["origin"], info["source"]) == ("live", "open-meteo")
    assert server.hits("/token/estacao/", prefix=True) == []


def test_environment_variables_point_the_bound_resource_at_another_server(server, tmp_path, monkeypatch) -> None:
    from nova_assets.defs.resources import resources

    server.route(PATHS["economics_selic"], sgs())
    for name, value in {
        "NOVA_LAKE_DIR": str(tmp_path / "lake"),
        "NOVA_LANDING_DIR": str(tmp_path / "landing"),
        "NOVA_SNAPSHOT_DIR": str(SNAPSHOT_DIR),
        "NOVA_OFFLINE": "0",
        "NOVA_AS_OF_DATE": AS_OF,
        "NOVA_BACEN_SGS_URL": server.url,
        "NOVA_HTTP_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    bound = resources().resources
    result = dg.materialize([ASSETS["economics_selic"]], resources={k: bound[k] for k in ("sources", "lake")})
    assert result.success and metadata(result, "raw", "economics_selic")["origin"] == "live"
    assert len(server.hits(PATHS["economics_selic"])) == 2


def selic_requests(server: LocalServer) -> list[tuple[str, str]]:
    hits = [parse_qs(urlsplit(t).query) for t in server.hits(PATHS["economics_selic"])]
    return [(q["dataInicial"][0], q["dataFinal"][0]) for q in hits]


def test_daily_partitions_fetch_their_days_and_upsert_without_losing_the_others(server, tmp_path) -> None:
    rows = json.loads(load_snapshot(bacen_sgs.SNAPSHOT_SELIC))
    server.route(PATHS["economics_selic"], sgs(rows))
    resource, lake_dir = sources(server, tmp_path, as_of_date="2025-11-05"), str(tmp_path / "lake")
    first = run_partition("economics_selic", resource, tmp_path, "2025-11-01")
    assert first.success and metadata(first, "raw", "economics_selic")["fetched_window"] == "2015-01-01..2025-11-01"
    table = read(lake_dir, "raw", "economics_selic")  # nothing stored yet: the whole history up to the day
    assert (table["date"].min(), table["date"].max()) == (date(2015, 1, 1), date(2025, 11, 1))
    server.requests.clear()
    revised = [dict(r, valor="14.00") if r["data"] == "30/10/2025" else r for r in rows]
    server.route(PATHS["economics_selic"], sgs(revised))
    second = run_partition("economics_selic", resource, tmp_path, "2025-11-05")
    assert second.success
    assert selic_requests(server) == [("26/10/2025", "05/11/2025")]  # the day and a 10-day lookback only
    after = read(lake_dir, "raw", "economics_selic")
    assert after["date"].max() == date(2025, 11, 5) and after["date"].is_unique
    assert after.set_index("date").loc[date(2025, 10, 30), "value"] == 14.0  # a revision inside the lookback
    older = after[after["date"] < date(2025, 10, 26)].reset_index(drop=True)
    pd.testing.assert_frame_equal(older, table[table["date"] < date(2025, 10, 26)].reset_index(drop=True))
    assert failed_checks(second, "economics_selic") == {}


def test_a_backfill_range_runs_once_and_rewrites_only_its_days(server, tmp_path) -> None:
    server.route(PATHS["economics_selic"], sgs())
    resource, lake_dir = sources(server, tmp_path), str(tmp_path / "lake")
    assert run_partition("economics_selic", resource, tmp_path, "2025-11-10").success
    before = read(lake_dir, "raw", "economics_selic")
    server.requests.clear()
    rows = [dict(r, valor="1.00") for r in json.loads(load_snapshot(bacen_sgs.SNAPSHOT_SELIC))]
    server.route(PATHS["economics_selic"], sgs(rows))
    backfill = run_partition("economics_selic", resource, tmp_path, ("2025-06-01", "2025-06-30"))
    assert backfill.success
    assert selic_requests(server) == [("22/05/2025", "30/06/2025")]  # one request for the whole range
    after = read(lake_dir, "raw", "economics_selic").set_index("date")["value"]
    rewritten = (after.index >= date(2025, 5, 22)) & (after.index <= date(2025, 6, 30))
    assert (after[rewritten] == 1.0).all() and rewritten.sum() == 40
    pd.testing.assert_series_equal(after[~rewritten], before.set_index("date")["value"][~rewritten])


def test_a_source_down_leaves_the_last_good_table_with_a_warning_and_a_failed_freshness_check(server, tmp_path) -> None:
    rows = json.loads(load_snapshot(bacen_sgs.SNAPSHOT_SELIC))
    rows[-2]["valor"] = "14.75"  # 10/11/2025: a value the recorded snapshot does not have
    server.route(PATHS["economics_selic"], sgs(rows))
    resource, lake_dir = sources(server, tmp_path), str(tmp_path / "lake")
    assert run_partition("economics_selic", resource, tmp_path, "2025-11-10").success
    good_day = read(lake_dir, "raw", "economics_selic")
    shutil.rmtree(tmp_path / "lake" / "bronze")  # no earlier live answer either: the snapshot stands in
    server.route(PATHS["economics_selic"], OUTAGES["http_503"])
    result = run_partition("economics_selic", resource, tmp_path, "2025-11-11")
    assert result.success  # stale data is a warning, not a stop
    info = metadata(result, "raw", "economics_selic")
    assert info["warning"].startswith("STALE: live fetch failed: BACEN SGS 432 01/11/2025-11/11/2025: failed after")
    assert info["origin"] == f"snapshot {bacen_sgs.SNAPSHOT_SELIC}"
    assert not checks(result, "economics_selic")["fresh"].passed
    after = read(lake_dir, "raw", "economics_selic")
    # the stand-in fills the one day the table lacked and overwrites nothing stored on the good day
    pd.testing.assert_frame_equal(after.iloc[:-1], good_day)
    assert after["value"].iloc[-2] == 14.75 and after["date"].iloc[-1] == date(2025, 11, 11)


def test_network_bound_assets_retry_with_exponential_backoff_and_jitter() -> None:
    for table, asset in ASSETS.items():
        policy = asset.op.retry_policy
        assert policy is not None and policy.max_retries >= 2, table
        assert (policy.backoff, policy.jitter) == (dg.Backoff.EXPONENTIAL, dg.Jitter.PLUS_MINUS), table
