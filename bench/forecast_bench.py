"""Forecast-stage benchmark: seconds per 1,000 series per family and for the whole stage on generated
daily spare-parts demand, and optionally the accuracy table of a real data set through `nova backtest`.

    python bench/forecast_bench.py --items 1000 --years 3
    python bench/forecast_bench.py --items 300 --years 3 --carparts /path/to/carparts_monthly.csv

The generated panel mixes the four Syntetos-Boylan classes like the sample business (15 % smooth,
15 % erratic, 45 % intermittent, 25 % lumpy) with a weekday profile and a yearly cycle. Real data is
never copied: pass its path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nova_assets.forecast_cli import cmd_backtest, expensive_cap
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, nargs="*", default=[1000], help="panel sizes to time (none: skip)")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--horizon", type=int, default=30)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--families", nargs="+", help="default: all")
    parser.add_argument("--max-expensive-series", type=int, help="Prophet/AutoARIMA cap (default 500; 0: none)")
    parser.add_argument("--carparts", type=Path, help="carparts_monthly.csv: accuracy table via `nova backtest`")
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
    if args.carparts:
        print(f"\n{args.carparts}: last 12 months held out, season 12 (nova backtest)", flush=True)
        backtest = argparse.Namespace(
            input=args.carparts,
            freq="M",
            horizon=12,
            season=12,
            families=args.families,
            windows=None,
            n_jobs=args.n_jobs,
            seed=0,
            origins=1,
            output=args.output / "carparts",
            max_expensive_series=args.max_expensive_series,
        )
        return cmd_backtest(backtest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
