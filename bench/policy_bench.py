"""Policy benchmark: achieved service, fill rate and stock of `nova policy-backtest` over a grid of
lead times and targets on real demand tables, and the daily cycle's policy backtest on the
SYNTHETIC sample business (figures and seconds).

    python bench/policy_bench.py --input /path/to/carparts_monthly.csv --input /path/to/auto_monthly.csv
    python bench/policy_bench.py --synthetic 1000

Each grid row is what `nova policy-backtest --input FILE --freq M --lead-time L --service-level T
--service-measure csl|fill_rate` prints (the same code path), computed by lib/evaluation/policy_grid.py
as `nova evaluate` computes its policy table; the table is Markdown. Real data is never copied: pass
its path.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from nova_assets.defs.inventory.settings import InventorySettings
from nova_assets.lib.evaluation.policy_grid import (
    LEAD_TIMES,
    MEASURES,
    SERVICE_TARGETS,
    format_row,
    policy_grid,
    summary_line,
)
from nova_assets.lib.inventory.backtest_report import daily_backtest
from nova_assets.lib.inventory.demand_table import read_long_table, to_matrix

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def grid(
    path: Path, freq: str, lead_times: list[float], levels: list[float], measures: list[str], calibrate: bool
) -> pd.DataFrame:
    """lib.evaluation.policy_grid on one table (the grid `nova evaluate` prints), one line per case."""
    matrix = to_matrix(read_long_table(path), freq)
    print(f"{path.stem}:", flush=True)
    table = policy_grid(
        matrix,
        freq,
        lead_times,
        levels,
        measures,
        calibrate=calibrate,
        progress=lambda row: print(f"  {format_row(row)}, load {os.getloadavg()[0]:.1f}", flush=True),
    )
    print(f"{path.stem}: {summary_line(table)}", flush=True)
    return table.assign(set=path.stem)


def synthetic_history(materials: int, years: int, root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The SYNTHETIC sample business as the daily cycle sees it: daily demand per material (issues
    summed over sites, explicit zeros), materials joined with suppliers, holidays."""
    from nova_assets.lib.sample.erp_generator import generate_sample_business
    from nova_assets.lib.sources.holidays_calendar import build_holidays
    from nova_assets.lib.sources.openmeteo import SNAPSHOT, parse_openmeteo

    weather = parse_openmeteo((PROJECT_ROOT / "data" / "snapshots" / SNAPSHOT).read_bytes())
    end = weather["date"].max() - timedelta(days=1)
    start = date(end.year - years, end.month, end.day) + timedelta(days=1)
    holidays = build_holidays(range(start.year, end.year + 1))
    files = generate_sample_business(
        root, n_materials=materials, start=start, end=end, weather_daily=weather, holidays=set(holidays["date"])
    )
    movements = pd.read_csv(files["movements"], usecols=["movement_date", "material_id", "movement_type", "quantity"])
    issues = movements[movements["movement_type"] == "issue"]
    catalogue = pd.read_csv(files["materials"])
    wide = (
        issues.assign(ds=pd.to_datetime(issues["movement_date"]))
        .pivot_table(index="material_id", columns="ds", values="quantity", aggfunc="sum")
        .reindex(index=catalogue["material_id"], columns=pd.date_range(start, end, freq="D"))
        .fillna(0.0)
    )
    history = wide.stack().rename("y").rename_axis(["unique_id", "ds"]).reset_index()
    merged = catalogue.merge(pd.read_csv(files["suppliers"]), on="supplier_id")
    return history, merged, holidays


def synthetic(materials: int, years: int) -> pd.DataFrame:
    with tempfile.TemporaryDirectory(prefix="policy_bench_") as scratch:
        history, catalogue, holidays = synthetic_history(materials, years, Path(scratch))
    started, cpu = time.monotonic(), time.process_time()
    settings = InventorySettings()  # the embedded defaults of the NOVA_* inventory settings
    _, result = daily_backtest(
        history, catalogue, holidays, 15.0, settings.policy, settings.holding_cost_rate, False, False
    )
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    print(
        f"SYNTHETIC sample, {materials} materials x {years} years daily: policy backtest {seconds:.1f} s "
        f"({cpu:.1f} s CPU, load {os.getloadavg()[0]:.1f})"
    )
    summary = result.summary
    shown = ["policy", "segment", "items", "service_measure", "service_target", "cycle_service_level", "fill_rate"]
    print(summary[[*shown, "avg_inventory_value"]].to_markdown(index=False, floatfmt=".3f"))
    if not result.curve.empty:
        print(result.curve.to_markdown(index=False, floatfmt=".3f"))
    return summary.assign(seconds=seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", type=Path, action="append", default=[], help="long demand table (repeatable)")
    parser.add_argument("--freq", default="M")
    parser.add_argument("--lead-times", type=float, nargs="+", default=list(LEAD_TIMES))
    parser.add_argument("--levels", type=float, nargs="+", default=list(SERVICE_TARGETS))
    parser.add_argument("--measures", nargs="+", default=list(MEASURES), choices=MEASURES)
    parser.add_argument("--synthetic", type=int, nargs="*", default=[], help="materials of the SYNTHETIC sample")
    parser.add_argument("--years", type=int, default=3, help="years of the SYNTHETIC sample")
    parser.add_argument("--output", type=Path, help="write the grid to this CSV")
    parser.add_argument("--no-calibration", action="store_true", help="nominal level = target (for comparison)")
    args = parser.parse_args(argv)
    if not args.input and not args.synthetic:
        parser.error("give --input and/or --synthetic")
    frames = [
        grid(path, args.freq, args.lead_times, args.levels, args.measures, not args.no_calibration)
        for path in args.input
    ]
    if frames:
        table = pd.concat(frames, ignore_index=True)
        print(table.drop(columns=["seconds", "cpu_seconds"]).to_markdown(index=False, floatfmt=".3f"))
        print(f"all tables: {summary_line(table)}")
        if args.output:
            table.to_csv(args.output, index=False)
    for materials in args.synthetic:
        synthetic(materials, args.years)
    return 0


if __name__ == "__main__":
    sys.exit(main())
