"""Forecast-stage benchmark: seconds per 1,000 series per family and for the whole stage on generated
daily spare-parts demand, and the wall time of `nova forecast` on a monthly panel of real series.

    python bench/forecast_bench.py --items 1000 --years 3
    python bench/forecast_bench.py --items --monthly /path/carparts_monthly.csv /path/auto_monthly.csv
    python bench/forecast_bench.py --items --ensemble-lake /tmp/nova-cycle-10000-XXXX/data/lake --repeats 2

The generated panel mixes the four Syntetos-Boylan classes like the sample business (15 % smooth,
15 % erratic, 45 % intermittent, 25 % lumpy) with a weekday profile and a yearly cycle. The monthly
panel pools the series of the tables given (each table's months relabelled to end on the same
month, so shorter series are newer items), at most --monthly-items of them, written to --output
(never into the repository), then times `nova forecast --freq M --horizon 12` on it, every family.
Accuracy on the dev sets is `nova evaluate`'s job.

--ensemble-lake times the ensemble step alone on the lake of a kept cycle (`bench/cycle_bench.py
--keep`), on the families' backtests and forecasts the cycle wrote: the lake reads, the phase-out of
the members (forecast and backtest windows) and build_ensemble, as forecast/forecast_ensemble runs
them; the lake is only read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nova_assets.forecast_cli import expensive_cap
from nova_assets.lib.forecasting.models import plan_windows
from nova_assets.lib.forecasting.pipeline import build_ensemble, run_family, select_families

WEEKDAY = np.array([1.05, 1.05, 1.0, 1.0, 0.95, 0.45, 0.25])
CLASSES = {  # share, daily event rate range (as the sample business), size (mean, dispersion: None = Poisson)
    "smooth": (0.15, (2.5, 5.0), (6.0, None)),
    "erratic": (0.15, (2.0, 4.0), (6.0, 0.5)),
    "intermittent": (0.45, (0.03, 0.45), (1.5, None)),
    "lumpy": (0.25, (0.02, 0.35), (8.0, 0.5)),
}


def synthetic_daily(items: int, years: float, seed: int = 0) -> pd.DataFrame:
    """Daily demand (unique_id, ds, y) of `items` spare parts over `years` years ending yesterday-ish."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(end="2025-11-10", periods=int(365 * years), freq="D")
    season = WEEKDAY[days.dayofweek] * (1 + 0.2 * np.cos(2 * np.pi * days.dayofyear.to_numpy() / 365.25))
    shares = np.array([c[0] for c in CLASSES.values()])
    kinds = rng.choice(list(CLASSES), size=items, p=shares / shares.sum())
    frames = []
    for i, kind in enumerate(kinds):
        _, (low, high), (mean, dispersion) = CLASSES[kind]
        occurs = rng.uniform(size=len(days)) < 1 - np.exp(-rng.uniform(low, high) * season)
        if dispersion is None:
            sizes = 1 + rng.poisson(mean - 1, len(days))
        else:
            sizes = 1 + rng.negative_binomial(dispersion, dispersion / (dispersion + mean), len(days))
        frames.append(pd.DataFrame({"unique_id": f"MAT-{i:05d}", "ds": days, "y": np.where(occurs, sizes, 0.0)}))
    return pd.concat(frames, ignore_index=True)


def time_stage(
    history: pd.DataFrame, families: list[str] | None, horizon: int, n_jobs: int, max_series: int | None
) -> dict[str, float]:
    """Seconds per family (backtest + final fit) and for the ensemble step, as the assets run them."""
    items = history["unique_id"].nunique()
    seconds, runs = {}, []
    for family in select_families(families):
        run = run_family(history, family, horizon, 7, n_jobs=n_jobs, max_series=max_series)
        runs.append(run)
        seconds[family.name] = run.seconds
        print(
            f"  {family.name:<18} {run.seconds:8.1f} s  ({run.seconds / items * 1000:7.1f} s per 1,000 series)"
            f"  load {os.getloadavg()[0]:.1f}",
            flush=True,
        )  # other jobs on the machine slow every figure
    started = time.monotonic()
    build_ensemble(history, pd.concat([r.backtest for r in runs]), pd.concat([r.forecast for r in runs]), 7)
    seconds["ensemble"] = time.monotonic() - started
    seconds["stage"] = sum(seconds.values())
    for key in ("ensemble", "stage"):
        print(f"  {key:<18} {seconds[key]:8.1f} s  ({seconds[key] / items * 1000:7.1f} s per 1,000 series)")
    return seconds


def time_ensemble(lake_dir: Path, repeats: int) -> dict[str, float]:
    """Seconds of the ensemble step's pieces on a kept cycle's lake, the fastest of `repeats` runs."""
    from nova_assets.defs.forecast.families import SEASON, load_maintenance_inputs, read_backtests, read_forecasts
    from nova_assets.defs.history import load_history
    from nova_assets.lib.maintenance.outlook import phase_out_backtests, phase_out_members
    from nova_assets.resources import LakeResource

    lake = LakeResource(lake_dir=str(lake_dir))
    started = time.monotonic()
    history, parts = load_history(lake), load_maintenance_inputs(lake)
    members, backtests = read_forecasts(lake), read_backtests(lake)
    seconds = {"read (history, maintenance, members)": time.monotonic() - started}
    tables = (parts.installed_base, parts.work_orders, parts.work_order_parts)
    print(
        f"{history['unique_id'].nunique()} series: {len(backtests)} backtest rows, {len(members)} forecast rows",
        flush=True,
    )
    for run in range(1, repeats + 1):
        started = time.monotonic()
        forecasts = phase_out_members(members, *tables, history["ds"].max())
        phased = phase_out_backtests(backtests, *tables)
        phase_out = time.monotonic() - started
        started = time.monotonic()
        build_ensemble(history, phased, forecasts, SEASON)
        ensemble = time.monotonic() - started
        print(
            f"  run {run}: phase-out {phase_out:.1f} s, build_ensemble {ensemble:.1f} s  load {os.getloadavg()[0]:.1f}"
        )
        seconds["phase-out"] = min(seconds.get("phase-out", phase_out), phase_out)
        seconds["build_ensemble"] = min(seconds.get("build_ensemble", ensemble), ensemble)
    for key, value in seconds.items():
        print(f"  {key:<38} {value:8.1f} s")
    return seconds


def monthly_panel(paths: list[Path], items: int) -> pd.DataFrame:
    """Long (item_id, month, demand) table of the first `items` series of the tables at `paths`, every
    table's months shifted so that all end on the last month of the first table."""
    frames = []
    for i, path in enumerate(paths):
        table = pd.read_csv(path, dtype={"item_id": str})
        column = next(c for c in ("month", "date", "period") if c in table.columns)
        months = pd.PeriodIndex(pd.to_datetime(table[column].astype(str)), freq="M")
        frames.append(
            pd.DataFrame({"item_id": f"T{i}-" + table["item_id"], "month": months, "demand": table["demand"]})
        )
    end = frames[0]["month"].max()
    shifted = [f.assign(month=f["month"] + (end - f["month"].max()).n) for f in frames]
    table = pd.concat(shifted, ignore_index=True)
    keep = table["item_id"].drop_duplicates().iloc[:items]
    table = table[table["item_id"].isin(keep)]
    return table.assign(month=table["month"].astype(str))


def time_monthly_forecast(csv: Path, output: Path, n_jobs: int, families: list[str] | None) -> float:
    """Wall seconds of `nova forecast` on `csv` (monthly, horizon 12, default windows), run as a user would."""
    command = [sys.executable, "-m", "nova_assets.cli", "forecast", "--input", str(csv), "--freq", "M"]
    command += ["--horizon", "12", "--n-jobs", str(n_jobs), "--output", str(output)]
    command += ["--families", *families] if families else []
    print(" ".join(command), flush=True)
    started = time.monotonic()
    subprocess.run(command, check=True)
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, nargs="*", default=[1000], help="panel sizes to time (none: skip)")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--horizon", type=int, default=30)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--families", nargs="+", help="default: all")
    parser.add_argument("--max-expensive-series", type=int, help="Prophet/AutoARIMA cap (default 500; 0: none)")
    parser.add_argument("--monthly", type=Path, nargs="+", help="monthly tables pooled into the `nova forecast` panel")
    parser.add_argument("--monthly-items", type=int, default=5000, help="series in the monthly panel (default 5000)")
    parser.add_argument("--ensemble-lake", type=Path, help="a kept cycle's lake: time the ensemble step on it")
    parser.add_argument("--repeats", type=int, default=1, help="runs of the ensemble step (the fastest is kept)")
    parser.add_argument("--output", type=Path, default=Path("bench_output"), help="folder for results")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    results = {}
    for items in args.items:
        history = synthetic_daily(items, args.years)
        print(
            f"{items} series x {history['ds'].nunique()} days, horizon {args.horizon}, "
            f"{plan_windows(history['ds'].nunique(), args.horizon, 7)[0]} backtest windows, n_jobs {args.n_jobs}:",
            flush=True,
        )
        seconds = time_stage(
            history, args.families, args.horizon, args.n_jobs, expensive_cap(args.max_expensive_series)
        )
        results[str(items)] = {
            k: {"seconds": round(v, 1), "per_1000_series": round(v / items * 1000, 1)} for k, v in seconds.items()
        }
    (args.output / "timings.json").write_text(json.dumps(results, indent=2))
    if args.ensemble_lake:
        seconds = time_ensemble(args.ensemble_lake, args.repeats)
        results["ensemble_lake"] = {k: round(v, 1) for k, v in seconds.items()}
        (args.output / "timings.json").write_text(json.dumps(results, indent=2))
    if args.monthly:
        panel = monthly_panel(args.monthly, args.monthly_items)
        csv = args.output / f"monthly_{panel['item_id'].nunique()}.csv"
        panel.to_csv(csv, index=False)
        print(f"\n{csv}: {panel['item_id'].nunique()} series, {panel['month'].nunique()} months", flush=True)
        load = os.getloadavg()[0]
        seconds = time_monthly_forecast(csv, args.output / "monthly_forecast.parquet", args.n_jobs, args.families)
        print(f"nova forecast: {seconds:.1f} s wall (load {load:.1f} before, {os.getloadavg()[0]:.1f} after)")
        results["monthly"] = {"series": int(panel["item_id"].nunique()), "seconds": round(seconds, 1)}
        (args.output / "timings.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
