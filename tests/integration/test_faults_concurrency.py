"""Two runs at once: the DuckDB warehouse has one writer; the second fails clearly or waits.

Under the Dagster daemon the run queue (dagster.yaml: one `nova/cycle` run at a time) and the
`duckdb` pool (one slot) make a second cycle wait. In process nothing queues, so DuckDB's own
file lock decides: the second writer is refused, says so, and the warehouse is intact afterwards.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from nova_assets.dbt_projects import dbt_resource, features_project
from nova_assets.defs.transform.features import dbt_features
from nova_assets.services.local_stack import PROJECT_ROOT
from tests.integration.test_dbt_build import _days, _write_raw_lake
from tests.integration.test_faults_lake import error_text

# Another run's writer: opens the warehouse, commits a table, and keeps the file until killed.
_OTHER_WRITER = """
import sys, time
from pathlib import Path
import duckdb
con = duckdb.connect(sys.argv[1])
con.execute("create table main.other_run as select 42 as answer")
Path(sys.argv[2]).touch()
time.sleep(600)
"""


def _build(partition: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [dbt_features],
        partition_key=partition,
        resources={"dbt": dbt_resource(features_project)},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _row_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        listed = con.execute("select table_name from duckdb_tables() where schema_name = 'main'").fetchall()
        tables = [name for (name,) in listed]
        return {t: con.execute(f'select count(*) from main."{t}"').fetchone()[0] for t in tables}


def test_a_second_writer_of_the_warehouse_fails_clearly_and_nothing_is_corrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = tmp_path / "lake"
    _write_raw_lake(lake)
    monkeypatch.setenv("NOVA_LAKE_DIR", str(lake))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    partition = _days()[-2].isoformat()
    assert _build(partition).success
    warehouse = lake / "warehouse.duckdb"
    built = _row_counts(warehouse)
    assert built["feat_item_daily"] > 0

    ready = tmp_path / "holding"
    other = subprocess.Popen([sys.executable, "-c", _OTHER_WRITER, str(warehouse), str(ready)], cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert other.poll() is None and time.monotonic() < deadline, "the other writer did not start"
            time.sleep(0.05)
        second = _build(partition)
    finally:
        other.send_signal(signal.SIGKILL)  # the other run dies while holding the file
        other.wait()

    assert not second.success
    (failure,) = [e for e in second.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    text = error_text(failure.step_failure_data.error)
    assert f"the DuckDB warehouse {warehouse} is in use by another process" in text
    assert f"(PID {other.pid})" in text and "nothing was written" in text
    assert second.get_asset_materialization_events() == []

    again = _build(partition)  # the retry, once the other writer is gone
    assert again.success
    assert all(c.passed for c in again.get_asset_check_evaluations())
    after = _row_counts(warehouse)
    assert after == {**built, "other_run": 1}  # the killed writer's commit survived; nothing else changed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select answer from main.other_run").fetchone() == (42,)


def test_the_instance_queues_one_cycle_at_a_time_and_one_duckdb_writer() -> None:
    """dagster.yaml's limits, parsed by Dagster itself, and the job and assets they apply to."""
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    with dg.instance_for_test(overrides={"concurrency": config["concurrency"]}) as instance:
        concurrency = instance.get_concurrency_config()
    assert concurrency.run_queue_config.tag_concurrency_limits == [{"key": "nova/cycle", "limit": 1}]
    assert concurrency.pool_config.default_pool_limit == 1

    from nova_assets.definitions import defs

    definitions = defs()
    assert definitions.resolve_job_def("daily_cycle").tags.get("nova/cycle") == "daily"
    graph = definitions.resolve_asset_graph()
    writers = {graph.get(k).assets_def for k in graph.get_all_asset_keys() if "duckdb" in graph.get(k).kinds}
    assert dg.AssetKey("feat_item_daily") in {key for node in writers for key in node.keys}
    assert {node.node_def.pool for node in writers} == {"duckdb"}
