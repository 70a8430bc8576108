"""Policy benchmark: achieved service, fill rate and stock of `nova policy-backtest` over a grid of
lead times and targets on real demand tables, and the daily cycle's policy backtest on the
SYNTHETIC sample business (figures and seconds): generated here (--synthetic N), or read from the
lake a `cycle_bench.py --keep` run left (--lake DIR: the history up to the cycle's backtest day, as
the policy_backtest asset replays it; the lake is only read).

    python bench/policy_bench.py --input /path/to/carparts_monthly.csv --input /path/to/auto_monthly.csv
    python bench/policy_bench.py --synthetic 1000
    python bench/policy_bench.py --lake /tmp/nova-cycle-10000-xxxx/data/lake --repeat 2

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

from nova_assets.defs.history import load_history
from nova_assets.defs.inventory.settings import InventorySettings
from nova_assets.lib.demand_history import backtest_through, cycle_date
from nova_assets.lib.evaluation.policy_grid import (
    LEAD_TIMES,
    MEASURES,
    SERVICE_TARGETS,
    format_row,
    policy_grid,
    summary_line,
)
from nova_assets.lib.inventory.backtest_report import daily_backtest
from nova_assets.lib.inventory.demand_table import to_matrix
from nova_assets.lib.lake_tables import ECONOMICS_SELIC, ERP_MATERIALS, ERP_SUPPLIERS, HOLIDAYS
from nova_assets.lib.long_table import read_long_table
from nova_assets.resources import CycleConfig, LakeResource

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


def lake_history(lake_dir: Path, backtest_every_days: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, float]:
    """What the policy_backtest asset replays, from a kept cycle's lake: the history up to the
    backtest day, materials joined with suppliers, holidays, the latest SELIC rate."""
    lake = LakeResource(lake_dir=str(lake_dir))
    history = load_history(lake)
    through = backtest_through(cycle_date(history["ds"]), backtest_every_days)
    catalogue = lake.read(ERP_MATERIALS).merge(lake.read(ERP_SUPPLIERS), on="supplier_id")
    selic = float(lake.read(ECONOMICS_SELIC).sort_values("date")["value"].iloc[-1])
    return history[history["ds"] <= pd.Timestamp(through)], catalogue, lake.read(HOLIDAYS), selic


def synthetic(materials: int, years: int) -> pd.DataFrame:
    with tempfile.TemporaryDirectory(prefix="policy_bench_") as scratch:
        history, catalogue, holidays = synthetic_history(materials, years, Path(scratch))
    label = f"SYNTHETIC sample, {materials} materials x {years} years daily"
    return timed(label, history, catalogue, holidays, 15.0, business_days=False, lost_sales=False)


def timed(
    label: str,
    history: pd.DataFrame,
    catalogue: pd.DataFrame,
    holidays: pd.DataFrame,
    selic: float,
    *,
    business_days: bool,
    lost_sales: bool,
    repeat: int = 1,
) -> pd.DataFrame:
    """daily_backtest with the embedded defaults of the NOVA_* inventory policy settings, timed `repeat` times."""
    settings = InventorySettings()
    for _ in range(repeat):
        started, cpu = time.monotonic(), time.process_time()
        _, result = daily_backtest(
            history, catalogue, holidays, selic, settings.policy, settings.holding_cost_rate, business_days, lost_sales
        )
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu
        print(f"{label}: policy backtest {seconds:.1f} s ({cpu:.1f} s CPU, load {os.getloadavg()[0]:.1f})", flush=True)
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
    parser.add_argument("--lake", type=Path, action="append", default=[], help="a kept cycle's lake (repeatable)")
    parser.add_argument(
        "--backtest-every-days", type=int, default=CycleConfig().backtest_every_days, help="NOVA_BACKTEST_EVERY_DAYS"
    )
    parser.add_argument("--repeat", type=int, default=1, help="time each --lake replay this many times")
    parser.add_argument("--output", type=Path, help="write the grid to this CSV")
    parser.add_argument("--no-calibration", action="store_true", help="nominal level = target (for comparison)")
    args = parser.parse_args(argv)
    if not args.input and not args.synthetic and not args.lake:
        parser.error("give --input, --synthetic and/or --lake")
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
    for lake in args.lake:
        history, catalogue, holidays, selic = lake_history(lake, args.backtest_every_days)
        label = f"SYNTHETIC lake {lake}, {history['unique_id'].nunique()} materials, {history['ds'].nunique()} days"
        settings = InventorySettings()  # as the asset runs it: the deployment's business days and lost sales
        timed(
            label,
            history,
            catalogue,
            holidays,
            selic,
            business_days=settings.business_days,
            lost_sales=settings.lost_sales,
            repeat=args.repeat,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
