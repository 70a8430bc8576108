"""Faults at a gold step: the step's process killed mid-load (SIGKILL), PostgreSQL restarted mid-load.

The step is the real `gold/forecasts` asset. The fault lands after the new rows are staged and
before they replace the old ones, inside the load's transaction. Afterwards the table holds the
previous version, exactly once; the re-run replaces it with the new one, exactly once, and the
rows of other cycles are never touched.
"""

from __future__ import annotations

import datetime as dt
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg
import pytest

from nova_assets.defs.gold.base.postgres import GoldRetentionResource, forecasts
from nova_assets.lib import lake
from nova_assets.lib.gold import loader
from nova_assets.lib.gold.loader import upsert
from nova_assets.lib.gold.schema import migrate
from nova_assets.resources import LakeResource, PostgresResource
from nova_assets.services.local_stack import PROJECT_ROOT
from nova_assets.services.postgres_server import LocalCluster, ensure_running, stop
from tests.integration.conftest import fresh_database
from tests.integration.test_faults_lake import error_text

CYCLE = dt.date(2025, 1, 10)
PREVIOUS_CYCLE = CYCLE - dt.timedelta(days=1)
MATERIALS = [f"M{i:03d}" for i in range(40)]
DAYS = 30


def _gold_database(server_url: str) -> str:
    """A fresh gold database with its schema and the materials the forecasts refer to."""
    url = fresh_database(server_url, "nova_gold_faults")
    with psycopg.connect(url) as conn:
        migrate(conn)
        supplier = pd.DataFrame(
            {"supplier_id": ["S1"], "supplier_name": ["F"], "lead_time_mean_days": [10.0], "lead_time_std_days": [2.0]}
        )
        upsert(conn, "core.suppliers", supplier, ["supplier_id"])
        materials = pd.DataFrame(
            {
                "material_id": MATERIALS,
                "description": "peça",
                "category": "RF",
                "unit": "UN",
                "unit_cost": 10.0,
                "criticality": "A",
                "supplier_id": "S1",
            }
        )
        upsert(conn, "core.materials", materials, ["material_id"])
    return url


def _ensemble(cycle: dt.date, level: float) -> pd.DataFrame:
    """forecast/ensemble as the forecast layer writes it, with its own intervals."""
    days = [pd.Timestamp(cycle + dt.timedelta(days=d)) for d in range(1, DAYS + 1)]
    frame = pd.DataFrame([(m, d) for m in MATERIALS for d in days], columns=["unique_id", "ds"])
    return frame.assign(model="Ensemble", forecast=level, forecast_lo=0.0, forecast_hi=2 * level, interval_level=0.8)


def _resources(lake_dir: Path, url: str) -> dict[str, dg.ConfigurableResource]:
    return {
        "lake": LakeResource(lake_dir=str(lake_dir)),
        "gold": PostgresResource(url=url),
        "gold_retention": GoldRetentionResource(forecast_retention_days="0"),
    }


def _load(lake_dir: Path, url: str, cycle: dt.date, level: float) -> dg.ExecuteInProcessResult:
    lake.write_table(lake_dir, "forecast", "ensemble", _ensemble(cycle, level))
    return dg.materialize([forecasts], resources=_resources(lake_dir, url), raise_on_error=False)


def _levels(url: str) -> dict[tuple[dt.date, float], int]:
    """Rows per (cycle, forecast level); any duplicate key would also show as extra rows."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT cycle_date, forecast, count(*), count(DISTINCT (material_id, model, forecast_date))"
            " FROM analytics.forecasts GROUP BY 1, 2"
        ).fetchall()
    assert all(n == distinct for *_, n, distinct in rows), "duplicate rows in analytics.forecasts"
    return {(cycle, level): n for cycle, level, n, _ in rows}


def _prepared(lake_dir: Path, url: str) -> None:
    """The previous cycle and a first version of this cycle already in gold."""
    assert _load(lake_dir, url, PREVIOUS_CYCLE, 1.0).success
    assert _load(lake_dir, url, CYCLE, 1.0).success
    assert _levels(url) == {(PREVIOUS_CYCLE, 1.0): len(MATERIALS) * DAYS, (CYCLE, 1.0): len(MATERIALS) * DAYS}


# The gold step in its own process; it stops for good once the new rows are staged, mid-transaction.
_KILLED_STEP = """
import sys, time
from pathlib import Path
import dagster as dg
from nova_assets.defs.gold.base.postgres import forecasts
from nova_assets.lib.gold import loader
from tests.integration.test_faults_gold import _resources

lake_dir, url, staged = sys.argv[1:4]
copy_rows = loader._copy_rows

def copy_then_hang(*args):
    copy_rows(*args)
    Path(staged).touch()
    time.sleep(600)

loader._copy_rows = copy_then_hang
dg.materialize([forecasts], resources=_resources(Path(lake_dir), url))
"""


def test_a_gold_step_killed_mid_load_loses_nothing_and_the_rerun_has_no_duplicates(
    postgres_server: str, tmp_path: Path
) -> None:
    gold_url = _gold_database(postgres_server)
    lake_dir = tmp_path / "lake"
    _prepared(lake_dir, gold_url)
    lake.write_table(lake_dir, "forecast", "ensemble", _ensemble(CYCLE, 2.0))
    staged = tmp_path / "staged"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_STEP, str(lake_dir), gold_url, str(staged)], cwd=PROJECT_ROOT
    )
    try:
        deadline = time.monotonic() + 180
        while not staged.exists():
            assert child.poll() is None, "the gold step ended before staging its rows"
            assert time.monotonic() < deadline, "the gold step never staged its rows"
            time.sleep(0.1)
        with psycopg.connect(gold_url) as conn:  # the new rows are staged, uncommitted: invisible
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE state = 'idle in transaction' AND datname = current_database()"
            ).fetchone()[0]
        assert waiting == 1
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    # nothing lost: the previous cycle and the first version of this one, each exactly once
    assert _levels(gold_url) == {(PREVIOUS_CYCLE, 1.0): len(MATERIALS) * DAYS, (CYCLE, 1.0): len(MATERIALS) * DAYS}

    rerun = _load(lake_dir, gold_url, CYCLE, 2.0)
    assert rerun.success
    assert _levels(gold_url) == {(PREVIOUS_CYCLE, 1.0): len(MATERIALS) * DAYS, (CYCLE, 2.0): len(MATERIALS) * DAYS}
    with psycopg.connect(gold_url) as conn:
        audit = conn.execute(
            "SELECT status, count(*) FROM support.load_audit WHERE table_name = 'analytics.forecasts' GROUP BY 1"
        ).fetchall()
    assert dict(audit) == {"committed": 3}  # the killed load left no trace (its audit row rolled back too)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_server() -> Iterator[LocalCluster]:
    """A PostgreSQL cluster of these tests alone, so restarting it disturbs no other test."""
    cluster = LocalCluster(data_dir=PROJECT_ROOT / "data" / "postgres-test" / "faults", port=_free_port())
    cluster.data_dir.parent.mkdir(parents=True, exist_ok=True)
    ensure_running(cluster, ())
    yield cluster
    stop(cluster)


def test_postgres_restarted_mid_load_fails_clearly_then_the_retry_succeeds(
    own_server: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _gold_database(own_server.url("postgres"))
    lake_dir = tmp_path / "lake"
    _prepared(lake_dir, url)

    copy_rows = loader._copy_rows

    def copy_then_restart(*args: object) -> None:
        copy_rows(*args)
        stop(own_server)
        ensure_running(own_server, ())

    monkeypatch.setattr(loader, "_copy_rows", copy_then_restart)
    failed = _load(lake_dir, url, CYCLE, 2.0)
    monkeypatch.undo()

    assert not failed.success
    (failure,) = [e for e in failed.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    text = error_text(failure.step_failure_data.error)
    assert "analytics.forecasts" in text and "rolled back" in text
    assert "terminating connection due to administrator command" in text
    assert _levels(url) == {(PREVIOUS_CYCLE, 1.0): len(MATERIALS) * DAYS, (CYCLE, 1.0): len(MATERIALS) * DAYS}

    retry = _load(lake_dir, url, CYCLE, 2.0)
    assert retry.success
    assert _levels(url) == {(PREVIOUS_CYCLE, 1.0): len(MATERIALS) * DAYS, (CYCLE, 2.0): len(MATERIALS) * DAYS}
