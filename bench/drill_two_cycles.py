"""Drill: two `daily_cycle` runs submitted at once to a real Dagster daemon; the second waits.

    python bench/drill_two_cycles.py [--root /tmp/nova-two] [--materials 12]

tests/integration/test_faults_concurrency.py shows what happens without a queue (the second
DuckDB writer is refused, the warehouse intact) and checks the queue's settings; this drill runs
the queue itself, as production does: a scratch stack (PostgreSQL instance storage, the project's
dagster.yaml), `dagster-daemon run`, and two `dagster job launch` of the same partition back to
back. The run queue allows one run tagged `nova/cycle` at a time, so the second must stay QUEUED
until the first ends, then run and succeed; afterwards the DuckDB warehouse opens, its demand
facts hold each (material, day) once, and gold holds each alert once.

Prints the status timeline and exits non-zero when a check fails. Stops the daemon and its
PostgreSQL at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psycopg
from scratch import drill_stack

from nova_assets.cli import MAIN_JOB
from nova_assets.services.local_stack import PROJECT_ROOT

TIMEOUT_S = 1800
BUSY = {"STARTING", "STARTED", "CANCELING"}
DONE = {"SUCCESS", "FAILURE", "CANCELED"}


def _launch(settings: dict[str, str], partition: str) -> None:
    """`dagster job launch`: submits the run to the instance's run queue (the daemon starts it)."""
    subprocess.run(
        [sys.executable, "-m", "dagster", "job", "launch", "-m", "nova_assets.definitions", "-j", MAIN_JOB,
         "--tags", json.dumps({"dagster/partition": partition})],
        cwd=PROJECT_ROOT, env={**os.environ, **settings}, check=True, capture_output=True,
    )  # fmt: skip


def _watch(root: Path, settings: dict[str, str]) -> list[str]:
    """Poll both runs until they end, printing each change of their statuses; the checks that failed."""
    from dagster import DagsterInstance

    os.environ.update(settings)  # the scratch dagster.yaml reads its storage URL from the environment

    failures: list[str] = []
    previous: list[str] = []
    waited = False  # seen: one cycle running, the other QUEUED
    started = time.monotonic()
    with DagsterInstance.from_config(str(root)) as instance:
        print(f"  run coordinator: {type(instance.run_coordinator).__name__}")
        while time.monotonic() - started < TIMEOUT_S:
            runs = [record.dagster_run for record in reversed(instance.get_run_records())]  # oldest first
            statuses = [r.status.value for r in runs]
            if statuses != previous:
                print(f"  {time.monotonic() - started:6.0f} s  " + "  ".join(
                    f"run {i + 1} {r.run_id[:8]}: {s}" for i, (r, s) in enumerate(zip(runs, statuses, strict=True))
                ), flush=True)  # fmt: skip
                previous = statuses
            busy = sum(s in BUSY for s in statuses)
            if busy > 1:
                failures.append("both cycles were running at the same time")
            waited = waited or (busy == 1 and "QUEUED" in statuses)
            if len(runs) == 2 and all(s in DONE for s in statuses):
                if statuses != ["SUCCESS", "SUCCESS"]:
                    failures.append(f"the runs ended {statuses}")
                if not waited:
                    failures.append("never saw one cycle running while the other was queued")
                return sorted(set(failures))
            time.sleep(1)
    return [*sorted(set(failures)), f"the runs did not end within {TIMEOUT_S} s"]


def _warehouse_and_gold(settings: dict[str, str], partition: str) -> list[str]:
    failures = []
    warehouse = Path(settings["NOVA_LAKE_DIR"]) / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows, distinct = con.execute(
            "SELECT count(*), count(DISTINCT (material_id, date)) FROM fct_item_daily_demand"
        ).fetchone()
    print(f"  warehouse fct_item_daily_demand: {rows} rows, {distinct} distinct (material, day)")
    if rows == 0 or rows != distinct:
        failures.append("the warehouse's demand facts are empty or repeat a (material, day)")
    with psycopg.connect(settings["NOVA_POSTGRES_URL"]) as conn:
        alerts, repeated = conn.execute(
            "SELECT count(*), count(*) - count(DISTINCT material_id) FROM analytics.alerts WHERE cycle_date = %s",
            (partition,),
        ).fetchone()
    print(f"  gold analytics.alerts for {partition}: {alerts} rows, {repeated} repeated")
    if alerts == 0 or repeated:
        failures.append("gold alerts are empty or repeated")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="scratch folder (default: a new temporary one, removed after)")
    parser.add_argument("--materials", type=int, default=12)
    args = parser.parse_args()
    with drill_stack(args.root, "nova-two-", args.materials) as (root, settings, partition):
        log = (root / "daemon.log").open("w")
        daemon = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-m", "nova_assets.definitions"],
            cwd=PROJECT_ROOT, env={**os.environ, **settings}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the code server it spawns stops with it
        )  # fmt: skip
        try:
            print("two cycles of the same partition submitted back to back")
            _launch(settings, partition)
            _launch(settings, partition)
            failures = _watch(root, settings) + _warehouse_and_gold(settings, partition)
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)  # SIGTERM to the daemon alone left its gRPC code server running
            daemon.wait(timeout=60)
    print("DRILL " + ("FAILED: " + "; ".join(failures) if failures else "PASSED"))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
