from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from nova_assets.lib.sources import bacen_ptax, bacen_sgs, ibge_sidra, openmeteo
from nova_assets.lib.sources.snapshots import (
    SNAPSHOT_DIR,
    SourceUnavailable,
    fetch_or_snapshot,
    load_snapshot,
)

# sha256 of the recorded responses: the project's copies must stay byte-identical to the recordings
RECORDED = {
    bacen_sgs.SNAPSHOT_SELIC: "2758791a1f6a153201e57728a863dafe12fd0441a1628e4cb28d8fc387ccc8b7",
    bacen_ptax.SNAPSHOT: "2fd13cfaae966b902c091b29e2a4f2d8c6f6dd5be8774bc0dd41c7d93e5d6928",
    ibge_sidra.SNAPSHOT: "246e84c428f25fd27e043c770f4c5134fcec1985a6f7da2614479f16dad55721",
    openmeteo.SNAPSHOT: "cc9f9dc40180eb1e482d7f8f8277c734bea78e87ac955ca3f823bea6cb7f8ab0",
}


@pytest.fixture
def snapshot_path(tmp_path: Path) -> Path:
    path = tmp_path / "snapshots" / "series.json"
    path.parent.mkdir()
    path.write_bytes(b'[{"recorded": true}]')
    return path


def test_project_snapshots_are_the_unchanged_recordings():
    assert Path(__file__).resolve().parents[2] / "data" / "snapshots" == SNAPSHOT_DIR
    for name, digest in RECORDED.items():
        assert hashlib.sha256(load_snapshot(name)).hexdigest() == digest, name


def test_missing_snapshot_is_a_source_error(tmp_path):
    with pytest.raises(SourceUnavailable, match=r"no recorded snapshot 'nope\.json'"):
        load_snapshot("nope.json", tmp_path)


def test_offline_never_calls_the_live_source(snapshot_path, tmp_path):
    def live() -> bytes:
        raise AssertionError("must not be called offline")

    bronze = tmp_path / "bronze"
    assert fetch_or_snapshot(live, snapshot_path, offline=True, bronze_dir=bronze) == (
        b'[{"recorded": true}]',
        "snapshot",
    )
    assert not bronze.exists()


def test_live_answer_is_stored_raw_in_bronze_before_use(snapshot_path, tmp_path):
    bronze = tmp_path / "bronze" / "sgs_432"
    first = fetch_or_snapshot(lambda: b'[{"live": 1}]', snapshot_path, offline=False, bronze_dir=bronze)
    second = fetch_or_snapshot(lambda: b'[{"live": 2}]', snapshot_path, offline=False, bronze_dir=bronze)
    assert first == (b'[{"live": 1}]', "live") and second == (b'[{"live": 2}]', "live")
    stored = sorted(bronze.iterdir())
    assert [path.suffix for path in stored] == [".json", ".json"]
    assert [path.read_bytes() for path in stored] == [b'[{"live": 1}]', b'[{"live": 2}]']


def test_live_failure_falls_back_to_the_snapshot_and_says_why(snapshot_path, tmp_path):
    def live() -> bytes:
        raise SourceUnavailable("BACEN SGS 432: failed after 4 attempts: ConnectError: refused")

    payload, origin = fetch_or_snapshot(live, snapshot_path, offline=False, bronze_dir=tmp_path / "bronze")
    assert payload == b'[{"recorded": true}]'
    assert origin == "snapshot (live failed: BACEN SGS 432: failed after 4 attempts: ConnectError: refused)"
    assert not (tmp_path / "bronze").exists()


def test_programming_errors_are_not_hidden_by_the_fallback(snapshot_path):
    def live() -> bytes:
        raise TypeError("bug")

    with pytest.raises(TypeError):
        fetch_or_snapshot(live, snapshot_path, offline=False, bronze_dir=None)


def test_real_connector_through_the_fallback(server, fast_policy, tmp_path):
    """A dead SGS endpoint ends in the recorded Selic snapshot, parsed by the same parser."""
    server.route("/dados/serie/bcdata.sgs.432/dados", server.reply(b"", status=503))
    payload, origin = fetch_or_snapshot(
        lambda: bacen_sgs.fetch_sgs_raw(server.url, 432, date(2015, 1, 1), date(2025, 11, 11), fast_policy),
        SNAPSHOT_DIR / bacen_sgs.SNAPSHOT_SELIC,
        offline=False,
        bronze_dir=tmp_path / "bronze",
    )
    assert origin.startswith(
        "snapshot (live failed: BACEN SGS 432 01/01/2015-31/12/2024: failed after 3 attempts"
    )
    assert len(bacen_sgs.parse_sgs(payload)) == 3968
