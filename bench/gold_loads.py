"""The two largest gold loads of the daily cycle, timed on a kept bench folder, every write rolled back.

    python bench/cycle_bench.py --materials 10000 --keep      # makes /tmp/nova-cycle-10000-XXXX
    python bench/gold_loads.py /tmp/nova-cycle-10000-XXXX --repeat 2

gold__purchase_orders (link the PO lines to their receipts, then load them) is timed three ways: into
the emptied table (the first cycle), onto the table as loaded (a day when nothing changed) and with 1%
of the stored lines altered first (they change back: a day with new receipts). gold__forecasts' load
is timed for a new cycle (its month partition dropped first) and for a re-run of the loaded cycle.
Each case runs in a transaction that is rolled back, so the folder keeps its data. The folder's
PostgreSQL is started when it is stopped (and left running: stop it with `pg_ctl`, or re-run the
cycle bench). Figures describe the synthetic sample on this machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
from psycopg import sql

from nova_assets.defs.gold.analytics.assets import _purchase_order_gap, cycle_as_of
from nova_assets.defs.gold.base.postgres import FORECASTS_TABLE, INTERVAL_COLUMNS, forecast_cycle_date, with_intervals
from nova_assets.lib.gold.loader import qualified, replace_cycle
from nova_assets.lib.gold.purchase_orders import (
    PURCHASE_ORDERS_TABLE,
    blank_unknown_codes,
    link_lake_receipts,
    load_lines,
)
from nova_assets.lib.gold.schema import migrate
from nova_assets.lib.lake_tables import ENSEMBLE_FORECAST, ERP_MOVEMENTS, ERP_PURCHASE_ORDERS
from nova_assets.resources import LakeResource
from nova_assets.services.local_stack import embedded_settings, start_postgres

Timings = dict[str, float]


def purchase_orders(lake: LakeResource, conn: psycopg.Connection, prepare: str) -> Timings:
    """The asset's work, piece by piece, after `prepare` (SQL run first in the same transaction)."""
    times: Timings = {}
    if prepare:
        conn.execute(prepare)
    started = time.perf_counter()
    assert _purchase_order_gap(lake) is None
    as_of = cycle_as_of(lake).date()
    times["gap check"] = time.perf_counter() - started
    with duckdb.connect() as con:
        lines = link_lake_receipts(con, lake.scan(con, ERP_PURCHASE_ORDERS), lake.scan(con, ERP_MOVEMENTS), as_of)
    times["link (DuckDB)"] = time.perf_counter() - started - sum(times.values())
    for column, reference in (("site_id", "core.sites"), ("supplier_id", "core.suppliers")):
        query = sql.SQL("SELECT {} FROM {}").format(sql.Identifier(column), qualified(reference))
        lines, _ = blank_unknown_codes(lines, column, {r[0] for r in conn.execute(query)})
    times["blank unknown codes"] = time.perf_counter() - started - sum(times.values())
    result = load_lines(conn, lines, as_of, run_id="bench")
    times["load (COPY + write changed)"] = time.perf_counter() - started - sum(times.values())
    times["total"] = time.perf_counter() - started
    times["lines written"] = result.rows_written
    return times


def forecasts(lake: LakeResource, conn: psycopg.Connection, new_cycle: bool) -> Timings:
    started = time.perf_counter()
    frame = with_intervals(lake, lake.read(ENSEMBLE_FORECAST))
    cycle_date = forecast_cycle_date(frame)
    frame = frame.rename(columns={"unique_id": "material_id", "ds": "forecast_date"})
    frame["forecast_date"] = pd.to_datetime(frame["forecast_date"]).dt.date
    times = {"read + intervals": time.perf_counter() - started}
    if new_cycle:
        conn.execute(sql.SQL("DROP TABLE {}").format(qualified(f"{FORECASTS_TABLE}_p{cycle_date:%Y_%m}")))
    loaded = time.perf_counter()
    columns = ["material_id", "forecast_date", "model", "forecast", *INTERVAL_COLUMNS]
    rows = replace_cycle(conn, FORECASTS_TABLE, cycle_date, frame[columns], "bench")
    times["load"] = time.perf_counter() - loaded
    times["total"] = time.perf_counter() - started
    times["rows"] = rows
    return times


def rolled_back(url: str, case: Callable[[psycopg.Connection], Timings]) -> Timings:
    with psycopg.connect(url) as conn:
        try:
            return case(conn)
        finally:
            conn.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a data folder kept by bench/cycle_bench.py --keep")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case (the median is printed)")
    args = parser.parse_args()
    settings = embedded_settings(args.folder, use_environment=False)
    url, lake = start_postgres(settings)["NOVA_POSTGRES_URL"], LakeResource(lake_dir=settings["NOVA_LAKE_DIR"])
    with psycopg.connect(url) as conn:
        migrate(conn)
    cases: dict[str, Callable[[psycopg.Connection], Timings]] = {
        "purchase_orders, first cycle (empty table)": lambda c: purchase_orders(
            lake, c, f"TRUNCATE {PURCHASE_ORDERS_TABLE}"
        ),
        "purchase_orders, nothing changed": lambda c: purchase_orders(lake, c, ""),
        "purchase_orders, 1% of lines changed": lambda c: purchase_orders(
            lake,
            c,
            f"UPDATE {PURCHASE_ORDERS_TABLE} SET received_quantity = received_quantity + 1"
            " WHERE hashtext(po_id) % 100 = 0",
        ),
        "forecasts, new cycle": lambda c: forecasts(lake, c, new_cycle=True),
        "forecasts, re-run of the cycle": lambda c: forecasts(lake, c, new_cycle=False),
    }
    for name, case in cases.items():
        runs: dict[str, list[float]] = defaultdict(list)
        for _ in range(args.repeat):
            for piece, value in rolled_back(url, case).items():
                runs[piece].append(value)
        print(name, flush=True)
        for piece, values in runs.items():
            if piece in ("lines written", "rows"):
                print(f"  {piece:<32} {statistics.median(values):>12,.0f}")
            else:
                print(f"  {piece:<32} {statistics.median(values):>10,.1f} s  ({', '.join(f'{v:.1f}' for v in values)})")


if __name__ == "__main__":
    main()
