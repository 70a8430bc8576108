"""marts.forecast_tracking at scale: a month of daily cycles in a scratch gold database, then the mart's
first build and the next day's incremental run timed (dbt run of the one model, dbt's start included).

    python bench/forecast_tracking.py                      # server of NOVA_POSTGRES_URL, database nova_tracking_bench
    python bench/forecast_tracking.py --materials 2000 --cycles 31 --models 13

Every cycle loads every model's 30-day forecast through the production loader (one day partition per
cycle), and analytics.demand_history holds 180 days of the materials' demand, as the daily cycle leaves
them. The mart reads the Ensemble's rows of the cycles not yet complete, so its cost grows with
materials x models x horizon x cycles in the horizon. SYNTHETIC figures; only the database named by
--database is dropped and re-created.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gold_queries import scratch_database  # noqa: E402
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL  # noqa: E402
from nova_assets.lib.gold.connection import dbt_environment  # noqa: E402
from nova_assets.lib.gold.loader import Scope, replace_cycle, replace_rows, upsert  # noqa: E402
from nova_assets.lib.gold.schema import migrate  # noqa: E402
from nova_assets.lib.platform.material_page import DEMAND_HISTORY_DAYS  # noqa: E402

GOLD_DBT = ROOT / "dbt_project" / "gold"
HORIZON = 30
LAST_DAY = dt.date(2025, 11, 9)


def load(url: str, materials: int, cycles: int, models: int, seed: int = 7) -> int:
    """Materials, `cycles` daily cycles of `models` models' forecasts and the demand history; the rows."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"M{i:05d}" for i in range(materials)])
    names = [ENSEMBLE_MODEL] + [f"Model{k}" for k in range(1, models)]
    level = rng.gamma(0.5, 2.0, materials)
    with psycopg.connect(url) as conn:
        migrate(conn)
        supplier = {
            "supplier_id": ["S1"],
            "supplier_name": ["s"],
            "lead_time_mean_days": [10.0],
            "lead_time_std_days": [2.0],
        }
        upsert(conn, "core.suppliers", pd.DataFrame(supplier), ["supplier_id"])
        catalogue = {"material_id": ids, "description": "peça", "category": "c", "unit": "UN", "unit_cost": 1.0}
        upsert(
            conn, "core.materials", pd.DataFrame(catalogue).assign(criticality="A", supplier_id="S1"), ["material_id"]
        )
        for back in range(cycles, 0, -1):
            cycle = LAST_DAY - dt.timedelta(days=back)
            days = [cycle + dt.timedelta(days=d) for d in range(1, HORIZON + 1)]
            material = np.repeat(np.arange(materials), HORIZON * len(names))
            forecast = level[material] * rng.uniform(0.8, 1.2, len(material))
            frame = pd.DataFrame(
                {
                    "material_id": ids[material],
                    "forecast_date": np.tile(np.repeat(days, len(names)), materials),
                    "model": np.tile(names, materials * HORIZON),
                    "forecast": forecast,
                    "forecast_lo": 0.0,
                    "forecast_hi": 3 * forecast,
                    "interval_level": 0.8,
                }
            )
            replace_cycle(conn, "analytics.forecasts", cycle, frame)
            conn.commit()
        days = [LAST_DAY - dt.timedelta(days=d) for d in range(DEMAND_HISTORY_DAYS)]
        demand = pd.DataFrame({"material_id": np.repeat(ids, len(days)), "demand_date": np.tile(days, materials)})
        demand["demand"] = rng.poisson(np.repeat(level, len(days))).astype(float)
        replace_rows(conn, "analytics.demand_history", demand.assign(cycle_date=LAST_DAY), Scope())
        conn.commit()
        return conn.execute("SELECT count(*) FROM analytics.forecasts").fetchone()[0]


def run_model(url: str, select: str, work: Path) -> float:
    """Seconds of `dbt run --select select` on the gold project against `url`."""
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_environment(url))
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    args = ["run", "--project-dir", str(GOLD_DBT), "--profiles-dir", str(GOLD_DBT), "--quiet", "--select", select]
    started = time.perf_counter()
    result = dbtRunner().invoke([*args, "--target-path", str(work / "target"), "--log-path", str(work / "logs")])
    if not result.success:
        raise SystemExit(f"dbt run --select {select} failed: {result.exception or result.result}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default=os.environ.get("NOVA_BENCH_POSTGRES_URL") or os.environ.get("NOVA_POSTGRES_URL")
    )
    parser.add_argument("--database", default="nova_tracking_bench", help="scratch database, dropped and re-created")
    parser.add_argument("--materials", type=int, default=2_000)
    parser.add_argument("--cycles", type=int, default=31, help="daily cycles before the last day")
    parser.add_argument("--models", type=int, default=13, help="models per cycle, the Ensemble among them")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("no server: set NOVA_POSTGRES_URL (e.g. `nova services up`) or pass --url")
    url = scratch_database(args.url, args.database)
    started = time.perf_counter()
    rows = load(url, args.materials, args.cycles, args.models)
    print(
        f"SYNTHETIC gold: {rows:,} forecast rows ({args.cycles} cycles x {args.materials:,} materials x "
        f"{HORIZON} days x {args.models} models), {DEMAND_HISTORY_DAYS} days of demand; loaded in "
        f"{time.perf_counter() - started:.0f} s"
    )
    work = Path("/tmp") / "nova_tracking_bench"
    print(f"model_comparison, its parent (empty here): {run_model(url, 'model_comparison', work):.1f} s")
    print(f"forecast_tracking, first build (every cycle): {run_model(url, 'forecast_tracking', work):.1f} s")
    print(f"forecast_tracking, next run (the cycles not complete): {run_model(url, 'forecast_tracking', work):.1f} s")
    with psycopg.connect(url) as conn:
        total, complete = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE complete) FROM marts.forecast_tracking"
        ).fetchone()
    print(f"marts.forecast_tracking: {total} cycles, {complete} complete")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
