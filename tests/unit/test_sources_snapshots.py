"""Live or fallback: bronze before parsing, then the last good answer, the snapshot, the previous table."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from nova_assets.lib.sources import bacen_ptax, bacen_sgs, ibge_sidra, openmeteo
from nova_assets.lib.sources.snapshots import (
    SNAPSHOT_DIR,
    Acquired,
    LiveSource,
    Snapshot,
    SourceUnavailable,
    acquire,
    load_snapshot,
)

# sha256 of the recorded responses: the project's copies must stay byte-identical to the recordings
RECORDED = {
    bacen_sgs.SNAPSHOT_SELIC: "2758791a1f6a153201e57728a863dafe12fd0441a1628e4cb28d8fc387ccc8b7",
    bacen_ptax.SNAPSHOT: "2fd13cfaae966b902c091b29e2a4f2d8c6f6dd5be8774bc0dd41c7d93e5d6928",
    ibge_sidra.SNAPSHOT: "246e84c428f25fd27e043c770f4c5134fcec1985a6f7da2614479f16dad55721",
    openmeteo.SNAPSHOT: "cc9f9dc40180eb1e482d7f8f8277c734bea78e87ac955ca3f823bea6cb7f8ab0",
}


def parse_rows(payload: bytes) -> pd.DataFrame:
    """A stand-in parser: a JSON array of objects; anything else raises like the real parsers do."""
    rows = json.loads(payload)
    if not isinstance(rows, list):
        raise ValueError("expected a JSON array")
    return pd.DataFrame(rows)


@pytest.fixture
def snapshot(tmp_path: Path) -> Snapshot:
    path = tmp_path / "snapshots" / "series.json"
    path.parent.mkdir()
    path.write_bytes(b'[{"recorded": true}]')
    return Snapshot(path, parse_rows)


def live(fetch) -> LiveSource:
    return LiveSource("series", fetch, parse_rows)


def failing() -> bytes:
    raise SourceUnavailable("BACEN SGS 432: failed after 4 attempts: ConnectError: refused")


def run(source: LiveSource, snapshot: Snapshot, tmp_path: Path, **kwargs) -> Acquired:
    return acquire(source, snapshot, offline=False, bronze_root=tmp_path / "bronze", **kwargs)


def test_project_snapshots_are_the_unchanged_recordings():
    assert Path(__file__).resolve().parents[2] / "data" / "snapshots" == SNAPSHOT_DIR
    for name, digest in RECORDED.items():
        assert hashlib.sha256(load_snapshot(name)).hexdigest() == digest, name


def test_missing_snapshot_is_a_source_error(tmp_path):
    with pytest.raises(SourceUnavailable, match=r"no recorded snapshot 'nope\.json'"):
        load_snapshot("nope.json", tmp_path)


def test_offline_never_calls_the_live_source(snapshot, tmp_path):
    def fetch() -> bytes:
        raise AssertionError("must not be called offline")

    got = acquire(live(fetch), snapshot, offline=True, bronze_root=tmp_path / "bronze")
    assert got.table.to_dict("records") == [{"recorded": True}]
    assert got.origin == "snapshot series.json" and not got.is_fallback
    assert not (tmp_path / "bronze").exists()


def test_live_answer_is_stored_raw_in_bronze_before_it_is_parsed(snapshot, tmp_path):
    bronze = tmp_path / "bronze" / "series"
    seen_in_bronze = []

    def parse(payload: bytes) -> pd.DataFrame:
        seen_in_bronze.append(sorted(p.read_bytes() for p in bronze.iterdir()))
        return parse_rows(payload)

    first = run(LiveSource("series", lambda: b'[{"live": 1}]', parse), snapshot, tmp_path)
    second = run(LiveSource("series", lambda: b'[{"live": 2}]', parse), snapshot, tmp_path)
    assert (first.origin, second.origin) == ("live", "live") and not second.is_fallback
    assert seen_in_bronze == [[b'[{"live": 1}]'], [b'[{"live": 1}]', b'[{"live": 2}]']]
    assert [p.read_bytes() for p in sorted(bronze.iterdir())] == [b'[{"live": 1}]', b'[{"live": 2}]']
    assert second.bronze_path == sorted(bronze.iterdir())[-1]


def test_live_failure_falls_back_to_the_snapshot_and_says_why(snapshot, tmp_path):
    got = run(live(failing), snapshot, tmp_path)
    assert got.table.to_dict("records") == [{"recorded": True}]
    assert got.origin == "snapshot series.json"
    assert got.fallback_reason == "live fetch failed: BACEN SGS 432: failed after 4 attempts: ConnectError: refused"
    assert not (tmp_path / "bronze" / "series").exists()


def test_live_failure_prefers_the_newest_earlier_answer_that_parses(snapshot, tmp_path):
    run(live(lambda: b'[{"day": 1}]'), snapshot, tmp_path)
    run(live(lambda: b'[{"day": 2}]'), snapshot, tmp_path)
    run(live(lambda: b'{"not": "an array"}'), snapshot, tmp_path)  # stored, falls back to day 2
    got = run(live(failing), snapshot, tmp_path)
    assert got.table.to_dict("records") == [{"day": 2}]
    assert got.origin.startswith("bronze ") and got.is_fallback


def test_unparseable_live_answer_is_kept_in_bronze_and_replaced(snapshot, tmp_path):
    got = run(live(lambda: b'{"error": "maintenance"}'), snapshot, tmp_path)
    stored = list((tmp_path / "bronze" / "series").iterdir())
    assert [p.read_bytes() for p in stored] == [b'{"error": "maintenance"}']
    assert got.origin == "snapshot series.json" and got.bronze_path == stored[0]
    assert "could not be parsed (ValueError: expected a JSON array)" in got.fallback_reason
    assert str(stored[0]) in got.fallback_reason


def test_without_snapshot_the_previous_table_stands_in(tmp_path):
    previous = pd.DataFrame({"kept": [1, 2]})
    gone = Snapshot(tmp_path / "missing.json", parse_rows)
    got = run(live(failing), gone, tmp_path, previous=previous)
    assert got.table["kept"].tolist() == [1, 2] and got.origin == "previous raw table"
    assert "no recorded snapshot 'missing.json'" in got.fallback_reason
    with pytest.raises(SourceUnavailable, match="no previous raw table"):
        run(live(failing), gone, tmp_path, previous=None)


def test_programming_errors_are_not_hidden_by_the_fallback(snapshot, tmp_path):
    def fetch() -> bytes:
        raise TypeError("bug")

    with pytest.raises(TypeError):
        run(live(fetch), snapshot, tmp_path)


def test_real_connector_through_the_fallback(server, fast_policy, tmp_path):
    """A dead SGS endpoint ends in the recorded Selic snapshot, parsed by the same parser."""
    server.route("/dados/serie/bcdata.sgs.432/dados", server.reply(b"", status=503))
    source = LiveSource(
        "sgs",
        lambda: bacen_sgs.fetch_sgs_raw(server.url, 432, date(2015, 1, 1), date(2025, 11, 11), fast_policy),
        bacen_sgs.parse_sgs,
    )
    got = run(source, Snapshot(SNAPSHOT_DIR / bacen_sgs.SNAPSHOT_SELIC, bacen_sgs.parse_sgs), tmp_path)
    assert got.fallback_reason.startswith(
        "live fetch failed: BACEN SGS 432 01/01/2015-31/12/2024: failed after 3 attempts"
    )
    assert len(got.table) == 3968
