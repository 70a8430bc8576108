"""Drill: SIGKILL a step of a real `daily_cycle` run while it loads gold, then run the cycle again.

    python bench/drill_kill_gold_step.py [--root /tmp/nova-drill] [--materials 12]
    python bench/drill_kill_gold_step.py --root /tmp/nova-drill --skip-cycle --kill-in analytics__forecasts

The in-process fault tests (tests/integration/test_faults_gold.py) kill a gold step run by
`dg.materialize`; this drill does it to the job as `nova run` runs it: `dagster job execute`,
the forkserver multiprocess executor, Postgres instance storage (dagster.yaml), a project-local
PostgreSQL on a free port, all in a scratch folder. Three runs:

1. the whole cycle (gold holds the cycle once);
2. the gold assets again (`dagster asset materialize`, multiprocess), and the first gold step
   caught inside its load transaction (seen in pg_stat_activity) is killed with SIGKILL: the run
   fails, and gold must still hold run 1's rows, exactly once;
3. the gold assets re-run: succeeds, and gold holds the cycle once, row for row what the lake says.

Prints what it saw and exits non-zero when a check fails. Stops its PostgreSQL at the end.
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

import psycopg
from scratch import drill_stack

from nova_assets.lib.lake_tables import ALERTS, ENSEMBLE_FORECAST, REORDER_POINTS
from nova_assets.resources import LakeResource
from nova_assets.services.local_stack import PROJECT_ROOT

GOLD_SELECTION = ",".join(
    f"gold/{name}" for name in ("core_suppliers", "core_materials", "core_sites", "core_regions", "forecasts",
                                "reorder_points", "alerts")
)  # fmt: skip
GOLD_TABLES = {  # gold table -> (lake table, key columns)
    "analytics.forecasts": (ENSEMBLE_FORECAST, "material_id, model, forecast_date"),
    "analytics.reorder_points": (REORDER_POINTS, "material_id, policy"),
    "analytics.alerts": (ALERTS, "material_id"),
}


def _pid_of_local_port(port: int) -> int | None:
    """The process owning the TCP socket bound to local `port` (/proc, no psutil here)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                return int(proc.name)
        except OSError:
            continue
    return None


def _run(
    settings: dict[str, str], partition: str, gold_only: bool, kill_gold_step: bool, kill_in: str = ""
) -> tuple[int, str]:
    """Run the cycle like `nova run` (or only the gold assets); optionally SIGKILL the first gold
    step caught inside a load transaction."""
    if gold_only:
        command = [
            sys.executable,
            "-m",
            "dagster",
            "asset",
            "materialize",
            "-m",
            "nova_assets.definitions",
            "--select",
            GOLD_SELECTION,
        ]  # fmt: skip (not partitioned)
    else:
        command = [sys.executable, "-m", "dagster", "job", "execute", "-m", "nova_assets.definitions",
                   "-j", "daily_cycle", "--tags", json.dumps({"dagster/partition": partition})]  # fmt: skip
    log = Path(settings["NOVA_DATA_DIR"]) / f"run-{time.time_ns()}.log"
    with log.open("w") as out:
        run = subprocess.Popen(command, cwd=PROJECT_ROOT, env={**os.environ, **settings}, stdout=out, stderr=out)
        killed = ""
        if kill_gold_step:
            with psycopg.connect(settings["NOVA_POSTGRES_URL"], autocommit=True) as watch:
                while run.poll() is None and not killed:
                    row = watch.execute(
                        "SELECT client_port, left(query, 80) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND query ILIKE %s",
                        (f"%staging%{kill_in}%",),
                    ).fetchone()
                    pid = _pid_of_local_port(row[0]) if row else None
                    if pid:
                        os.kill(pid, signal.SIGKILL)
                        killed = f"SIGKILL step process {pid} inside its gold load; its last statement: {row[1]!r}"
                    time.sleep(0.01)
        run.wait()
    text = log.read_text(errors="replace")
    print(f"  exit {run.returncode}; {killed or 'nothing killed'}")
    for line in text.splitlines():
        if "unexpectedly" in line or "RUN_FAILURE" in line or "RUN_SUCCESS" in line:
            print("  |", line.strip()[:220])
    return run.returncode, killed


def _gold_state(settings: dict[str, str], cycle: str) -> dict[str, tuple[int, int]]:
    """Per gold table: rows of the cycle, and rows that repeat a key."""
    state = {}
    with psycopg.connect(settings["NOVA_POSTGRES_URL"]) as conn:
        for table, (_, key) in GOLD_TABLES.items():
            rows, repeated = conn.execute(
                f"SELECT count(*), count(*) - count(DISTINCT ({key})) FROM {table} WHERE cycle_date = %s", (cycle,)
            ).fetchone()
            state[table] = (rows, repeated)
    return state


def _lake_rows(settings: dict[str, str]) -> dict[str, int]:
    return {
        table: len(LakeResource(lake_dir=settings["NOVA_LAKE_DIR"]).read(lake_table))
        for table, (lake_table, _) in GOLD_TABLES.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="scratch folder (default: a new temporary one, removed after)")
    parser.add_argument("--materials", type=int, default=12)
    parser.add_argument("--skip-cycle", action="store_true", help="skip run 1: --root already holds a good cycle")
    parser.add_argument(
        "--kill-in", default="", help="kill only a load whose staging table name contains this, e.g. analytics__alerts"
    )
    args = parser.parse_args()
    failures = []
    with drill_stack(args.root, "nova-drill-", args.materials) as (_, settings, partition):
        code = 0
        if not args.skip_cycle:
            print("run 1: the whole cycle")
            started = time.monotonic()
            code, _ = _run(settings, partition, gold_only=False, kill_gold_step=False)
            print(f"  {time.monotonic() - started:.0f} s")
        before = _gold_state(settings, partition)
        print(f"  gold (rows, repeated keys): {before}")
        if code != 0 or any(rows == 0 or repeated for rows, repeated in before.values()):
            failures.append("run 1 did not load gold cleanly")

        print("run 2: the gold assets again, a gold step killed mid-load")
        code, killed = _run(settings, partition, gold_only=True, kill_gold_step=True, kill_in=args.kill_in)
        after_kill = _gold_state(settings, partition)
        print(f"  gold (rows, repeated keys): {after_kill}")
        if not killed or code == 0:
            failures.append("run 2: no gold step was caught and killed (the drill missed; run it again)")
        if after_kill != before:
            failures.append("run 2: gold changed after the kill (lost or duplicated rows)")

        print("run 3: the gold assets re-run")
        code, _ = _run(settings, partition, gold_only=True, kill_gold_step=False)
        final = _gold_state(settings, partition)
        expected = _lake_rows(settings)
        print(f"  gold (rows, repeated keys): {final}; lake rows: {expected}")
        if code != 0 or any(final[t] != (expected[t], 0) for t in GOLD_TABLES):
            failures.append("run 3: gold does not hold the lake's rows exactly once")
    print("DRILL " + ("FAILED: " + "; ".join(failures) if failures else "PASSED"))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
