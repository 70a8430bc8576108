"""Which connector each public table uses, for each weather source setting."""

from __future__ import annotations

from datetime import date

import pytest

from nova_assets.lib.sources.public import HISTORY_START, PUBLIC_TABLES, LiveSettings, fetch_window, plan_source
from nova_assets.lib.sources.snapshots import SNAPSHOT_DIR

SETTINGS = LiveSettings(as_of=date(2025, 11, 11))


@pytest.mark.parametrize("table", PUBLIC_TABLES)
def test_every_public_table_has_a_live_connector_and_a_recorded_snapshot(table: str) -> None:
    plan = plan_source(table, SETTINGS, SNAPSHOT_DIR, offline=False)
    assert plan.snapshot.path.is_file() and plan.notes == ()
    assert not plan.snapshot.parse(plan.snapshot.path.read_bytes()).empty


def test_inmet_needs_a_token_and_open_meteo_stands_in_without_one() -> None:
    with_token = LiveSettings(as_of=date(2025, 11, 11), weather_source="inmet", inmet_token="t")
    assert plan_source("weather_daily", with_token, SNAPSHOT_DIR, offline=False).live.name == "inmet-a401"
    without = LiveSettings(as_of=date(2025, 11, 11), weather_source="inmet")
    plan = plan_source("weather_daily", without, SNAPSHOT_DIR, offline=False)
    assert plan.live.name == "open-meteo" and "NOVA_INMET_TOKEN is not set" in plan.notes[0]
    offline = plan_source("weather_daily", with_token, SNAPSHOT_DIR, offline=True)
    assert "offline: the recorded Open-Meteo answer stands in" in offline.notes[0]


def test_unknown_sources_are_refused() -> None:
    with pytest.raises(ValueError, match="NOVA_WEATHER_SOURCE='metsul'"):
        plan_source(
            "weather_daily", LiveSettings(as_of=date(2025, 11, 11), weather_source="metsul"), SNAPSHOT_DIR, False
        )
    with pytest.raises(ValueError, match="unknown public source table 'rain'"):
        plan_source("rain", SETTINGS, SNAPSHOT_DIR, offline=False)


def test_a_partition_fetches_its_days_with_a_lookback_and_catches_up_after_downtime() -> None:
    day = date(2025, 11, 5)
    assert fetch_window(day, day, SETTINGS, stored_until=date(2025, 11, 4)) == (date(2025, 10, 26), day)
    # nothing stored since 20 October: the run reaches back to the first missing day
    assert fetch_window(day, day, SETTINGS, stored_until=date(2025, 10, 20)) == (date(2025, 10, 21), day)
    # nothing stored at all: the whole history
    assert fetch_window(day, day, SETTINGS, stored_until=None) == (HISTORY_START, day)
    # a backfill range, and never past the as-of date
    assert fetch_window(date(2025, 11, 1), date(2025, 11, 30), SETTINGS, stored_until=date(2025, 11, 11)) == (
        date(2025, 10, 22),
        date(2025, 11, 11),
    )


def test_every_public_source_entry_is_wired_from_its_one_entry() -> None:
    """A source is one entry: its raw asset and checks, its URL setting, its dbt source and staging model."""
    import yaml

    from nova_assets.defs.ingest.public_apis import defs as public_defs
    from nova_assets.lib.sources.public import PUBLIC_SOURCES
    from nova_assets.lib.sources.quality import RULES
    from nova_assets.settings import PROJECT_ROOT, SETTINGS

    staging = PROJECT_ROOT / "dbt_project" / "features" / "models" / "staging"
    declared = {
        table["name"]: table["config"]["meta"]["dagster"]["asset_key"]
        for source in yaml.safe_load((staging / "_sources.yml").read_text())["sources"]
        for table in source["tables"]
    }
    assets = {key.path[-1] for asset in public_defs().assets for key in asset.keys}
    for table, source in PUBLIC_SOURCES.items():
        assert RULES[table] is source.rules
        assert declared[table] == ["raw", table], f"{table}: no dbt source wired to its raw asset"
        assert f"source('raw', '{table}')" in (staging / f"{source.staging_model}.sql").read_text()
        assert all(SETTINGS[endpoint.setting].default == endpoint.base_url for endpoint in source.endpoints)
        assert (table in assets) == (source.plan is not None)
    assert set(PUBLIC_TABLES) == assets
