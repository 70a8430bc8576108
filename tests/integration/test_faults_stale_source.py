"""A source down for days, at the level of the whole cycle: it runs on the last good data and says so.

The ERP sends no new export for six days (the as-of date is six days after its last movement; the
public sources are the recorded snapshots, as old). The cycle must still forecast, size reorder
points and alert from the data it has, and every alert, the gold table and the asset metadata must
say the data is stale and since when. One in-process run of the daily cycle on a tiny business.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg
import pytest

from nova_assets.lib import lake
from nova_assets.lib.sources.quality import RULES
from tests.integration.conftest import cycle_settings

DAYS_DOWN = 6  # > erp_movements' freshness rule (3 days)


@pytest.fixture(scope="module")
def stale_cycle(tmp_path_factory: pytest.TempPathFactory, postgres_server: str) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("stale")
    settings = cycle_settings(root, postgres_server, "nova_stale_test", materials=6, sites=2, horizon=7)
    from nova_assets.cli import cycle_partition, ensure_sample

    ensure_sample(settings)
    last_day = dt.date.fromisoformat(cycle_partition(settings))
    settings["NOVA_AS_OF_DATE"] = str(last_day + dt.timedelta(days=DAYS_DOWN))
    previous = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        from nova_assets.definitions import defs

        result = (
            defs()
            .resolve_job_def("daily_cycle")
            .execute_in_process(instance=dg.DagsterInstance.ephemeral(), partition_key=str(last_day))
        )
        yield {"settings": settings, "result": result, "last_day": last_day}
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def test_the_cycle_still_runs_on_the_last_good_data(stale_cycle: dict) -> None:
    assert stale_cycle["result"].success
    with psycopg.connect(stale_cycle["settings"]["NOVA_POSTGRES_URL"]) as conn:
        cycles = conn.execute("SELECT DISTINCT cycle_date FROM analytics.forecasts").fetchall()
    assert cycles == [(stale_cycle["last_day"],)]


def test_every_alert_says_the_data_is_stale_and_since_when(stale_cycle: dict) -> None:
    alerts = lake.read_table(Path(stale_cycle["settings"]["NOVA_LAKE_DIR"]), "inventory", "alerts")
    data_as_of = pd.Timestamp(alerts["data_as_of"].iloc[0]).date()
    assert data_as_of <= stale_cycle["last_day"]
    assert alerts["is_stale"].all()
    (warning,) = alerts["stale_warning"].unique()
    assert warning.startswith("ATENÇÃO: dados desatualizados: ")
    freshness = RULES["erp_movements"].freshness
    assert freshness is not None
    as_of = dt.date.fromisoformat(stale_cycle["settings"]["NOVA_AS_OF_DATE"])
    movements = (
        f"erp_movements até {stale_cycle['last_day']:%d/%m/%Y} "
        f"({DAYS_DOWN} dias antes de {as_of:%d/%m/%Y}, máximo {freshness.max_lag_days})"
    )
    assert movements in warning

    with psycopg.connect(stale_cycle["settings"]["NOVA_POSTGRES_URL"]) as conn:
        gold = conn.execute("SELECT DISTINCT is_stale, stale_warning FROM analytics.alerts").fetchall()
    assert gold == [(True, warning)]


def test_the_metadata_and_the_freshness_checks_say_so(stale_cycle: dict) -> None:
    result = stale_cycle["result"]
    (event,) = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(["inventory", "alerts"])
    ]
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    assert metadata["stale_data"] is True
    assert metadata["reference_date"] == stale_cycle["settings"]["NOVA_AS_OF_DATE"]
    fresh = {
        e.asset_key.to_user_string(): e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "fresh" and e.asset_key == dg.AssetKey(["raw", "erp_movements"])
    }
    movements = fresh["raw/erp_movements"]
    assert not movements.passed and movements.description.startswith("stale:")
    assert f"{DAYS_DOWN} days before the as-of date" in movements.description
