"""`nova backtest` and `nova forecast`: the forecast stage on any demand table (CSV or Parquet).

Same code paths as the Dagster assets (lib.forecasting.pipeline). Input: a long table with an
item, a date and a demand column (lib.long_table: item_id, date, demand and the other names it
knows). Rows of the same item and period are summed,
missing periods between an item's first period and the table's last one count as no demand.
Bad input stops with a message naming the problem and exit code 2.

    nova backtest --input demand.csv --freq M --horizon 12 --output out/
    nova forecast --input demand.csv --freq D --horizon 30 --output forecast.parquet
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from nova_assets.lib.long_table import PERIODS, PERIODS_HELP, InputError

if TYPE_CHECKING:  # pandas and the forecasting modules are imported by the commands that run
    import pandas as pd

    from nova_assets.lib.forecasting.models import ModelFamily
    from nova_assets.lib.forecasting.pipeline import EnsembleRun, FamilyRun

EXIT_BAD_INPUT = 2
EVALUATE_HELP = """Run the whole forecast stage (every family, the learned ensemble, reference methods) at
rolling origins of each dev set, and the stock policy at 90/95/98 % cycle-service targets and lead
times 1-3; print one table per set, write them to --output and log one MLflow run per set.

    nova evaluate carparts_monthly.csv auto_monthly.csv sample

A set is a demand table (an item, a date and a demand column, e.g. item_id, date, demand) or
`sample` (the synthetic sample business), optionally with :h=HORIZON,m=SEASON,f=FREQ. Defaults
reproduce the eval README splits."""
OUTPUT_FORMATS = (".csv", ".parquet")


def add_forecast_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `backtest` and `forecast` on the `nova` command's subparsers."""
    backtest = subparsers.add_parser(
        "backtest", help="score every model and the learned ensemble on the last horizon(s) of a demand table"
    )
    _common_arguments(backtest)
    backtest.add_argument(
        "--output",
        type=Path,
        default=Path("nova_backtest"),
        help="folder for metrics.json and scores_by_model.csv (default: ./nova_backtest)",
    )
    backtest.add_argument(
        "--origins",
        type=int,
        default=1,
        help="hold-out windows, each `horizon` periods, scored one after the other (default 1)",
    )
    backtest.set_defaults(func=cmd_backtest)

    forecast = subparsers.add_parser(
        "forecast", help="fit on all history and write every model's forecast, the ensemble and quantiles"
    )
    _common_arguments(forecast)
    forecast.add_argument("--output", type=Path, required=True, help="output file, .csv or .parquet")
    forecast.set_defaults(func=cmd_forecast)

    evaluate = subparsers.add_parser(
        "evaluate",
        help="run the whole forecast and the stock policy on dev sets; one table per set, logged to MLflow",
        description=EVALUATE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument("sets", nargs="+", metavar="SET", help="PATH[:h=H,m=M,f=D|W|M] or sample[:...]")
    evaluate.add_argument("--origins", type=int, default=3, help="rolling origins per set (default 3)")
    evaluate.add_argument("--step", type=int, help="periods between origins (default: half the horizon)")
    evaluate.add_argument(
        "--families", nargs="+", metavar="FAMILY", help="model families (default: all; the baseline always)"
    )
    evaluate.add_argument(
        "--windows", type=int, help="backtest windows of the stage at each origin (default: as `nova forecast`)"
    )
    evaluate.add_argument("--n-jobs", type=int, default=2, help="processes/threads per family (default 2)")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--max-expensive-series", type=int, metavar="N", help="Prophet/AutoARIMA cap (default 500)")
    evaluate.add_argument("--no-policy", action="store_true", help="skip the stock-policy replay")
    evaluate.add_argument("--no-mlflow", action="store_true", help="do not log the tables to MLflow")
    evaluate.add_argument(
        "--keep-stage", action="store_true", help="also write each origin's member backtests and forecasts (Parquet)"
    )
    evaluate.add_argument("--output", type=Path, default=Path("nova_evaluation"), help="folder for the tables")
    evaluate.set_defaults(func=cmd_evaluate)


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input",
        type=Path,
        required=True,
        help="CSV or Parquet with an item, a date and a demand column (e.g. item_id, date, demand)",
    )
    parser.add_argument("--freq", choices=tuple(PERIODS), required=True, help=PERIODS_HELP)
    parser.add_argument("--horizon", type=int, required=True, help="periods to forecast")
    parser.add_argument(
        "--season",
        type=int,
        help="season length in periods (default: D 7, W 52, M 12 if the history holds three seasons, else 1)",
    )
    parser.add_argument(
        "--families",
        nargs="+",
        metavar="FAMILY",
        help="model families to run (default: all; the baseline is always included)",
    )
    parser.add_argument(
        "--windows",
        type=int,
        help="rolling-origin backtest windows the ensemble weights are learned on, half a horizon apart "
        "(default: as many as the history allows, at most 3)",
    )
    parser.add_argument("--n-jobs", type=int, default=2, help="processes/threads per family (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--max-expensive-series",
        type=int,
        metavar="N",
        help="Prophet and AutoARIMA fit only the N series with the most demand (default 500; 0: no cap)",
    )


def _settings(args: argparse.Namespace, history: pd.DataFrame, holdout_windows: int) -> tuple[int, list]:
    """Season and families; InputError if the history cannot hold the hold-out windows and the backtest
    (a forecast without hold-out runs with whatever backtest windows fit, none included)."""
    from nova_assets.lib.forecasting.models import min_train_periods, plan_windows
    from nova_assets.lib.forecasting.panel import default_season

    if args.horizon < 1 or (args.windows is not None and args.windows < 1):
        raise InputError("--horizon and --windows must be at least 1")
    periods = history["ds"].nunique()
    season = args.season or default_season(args.freq, periods - holdout_windows * args.horizon, args.horizon)
    families = _families(args.families)
    training = periods - holdout_windows * args.horizon
    windows = args.windows or (1 if holdout_windows else None)
    try:
        plan_windows(training, args.horizon, season, windows)
    except ValueError:
        needed = holdout_windows * args.horizon + min_train_periods(args.horizon, season) + args.horizon
        needed += (windows - 1) * math.ceil(args.horizon / 2)
        raise InputError(
            f"{periods} periods of history; {windows} backtest window(s) of {args.horizon}"
            f"{f' plus {holdout_windows} hold-out window(s)' if holdout_windows else ''}"
            f" need at least {needed}"
        ) from None
    return season, families


def _families(names: list[str] | None) -> list[ModelFamily]:
    """--families as the families to run; an unknown name is an input error."""
    from nova_assets.lib.forecasting.pipeline import select_families

    try:
        return select_families(names)
    except ValueError as exc:
        raise InputError(str(exc)) from exc


def expensive_cap(value: int | None) -> int | None:
    """--max-expensive-series: unset is the default cap, 0 is none."""
    from nova_assets.lib.forecasting.models import EXPENSIVE_MAX_SERIES

    return EXPENSIVE_MAX_SERIES if value is None else (value or None)


def _run_forecast(
    args: argparse.Namespace, history: pd.DataFrame, families: list[ModelFamily], season: int
) -> tuple[list[FamilyRun], EnsembleRun]:
    """The stage on `history` with the command's options, the same for `nova forecast` and each hold-out window."""
    from nova_assets.lib.forecasting.pipeline import run_forecast

    return run_forecast(
        history,
        families,
        args.horizon,
        season,
        args.windows,
        args.n_jobs,
        args.freq,
        args.seed,
        _progress,
        expensive_cap(args.max_expensive_series),
    )


def _progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM as SystemExit, so the command leaves through its cleanup (the process pools end their workers)."""
    raise SystemExit(128 + signum)


def _guarded(command: str, run: Callable[[], int]) -> int:
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        return run()
    except InputError as exc:
        print(f"nova {command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_backtest(args: argparse.Namespace) -> int:
    """Hold out the last `origins` x `horizon` periods, run the stage on what precedes each hold-out
    window exactly as `nova forecast` would, and score every model and the ensemble on it."""
    return _guarded("backtest", lambda: _backtest(args))


def _backtest(args: argparse.Namespace) -> int:
    import pandas as pd

    from nova_assets.lib.forecasting.demand_input import read_demand
    from nova_assets.lib.forecasting.metrics import interval_coverage, score_windows, summarise
    from nova_assets.lib.forecasting.models import backtest_cutoffs
    from nova_assets.lib.forecasting.quantiles import QUANTILES

    if args.origins < 1:
        raise InputError("--origins must be at least 1")
    history, _ = read_demand(args.input, args.freq)
    season, families = _settings(args, history, args.origins)
    started = time.monotonic()
    predictions, coverage, weights, choices, seconds = [], [], [], [], {}
    cutoffs = backtest_cutoffs(history, args.horizon, args.origins)
    for cutoff in cutoffs:
        _progress(f"hold-out window after {cutoff.date()}")
        train = history[history["ds"] <= cutoff]
        future = history[history["ds"] > cutoff]
        holdout = future[future["ds"] <= sorted(future["ds"].unique())[args.horizon - 1]]
        runs, ensemble = _run_forecast(args, train, families, season)
        predictions.append(ensemble.forecast.merge(holdout, on=["unique_id", "ds"]).assign(cutoff=cutoff))
        coverage.append(interval_coverage(holdout, ensemble.quantiles, QUANTILES))
        weights.append(ensemble.weights.table().assign(cutoff=str(cutoff.date())))
        choices.append(ensemble.weights.report.assign(cutoff=str(cutoff.date())))
        for run in runs:
            seconds[run.family] = seconds.get(run.family, 0.0) + run.seconds
    scored = pd.concat(predictions, ignore_index=True)
    table = summarise(score_windows(history, scored, season), ["model"])
    table.insert(1, "family", table["model"].map(dict(zip(scored["model"], scored["family"], strict=False))))
    table = table.sort_values(["family", "model"], ignore_index=True)
    mean_coverage = pd.DataFrame(coverage).mean().to_dict()

    columns = ["model", "family", "mase", "rmsse", "smape", "mape", "bias", "total_demand_error", "n_series"]
    print(table[columns].round(3).to_string(index=False))
    print(
        "\ninterval coverage of the ensemble quantiles:",
        ", ".join(f"{k.removeprefix('coverage_')} {v:.3f}" for k, v in mean_coverage.items()),
    )
    args.output.mkdir(parents=True, exist_ok=True)
    table[columns].to_csv(args.output / "scores_by_model.csv", index=False)
    report = {
        "input": str(args.input),
        "freq": args.freq,
        "horizon": args.horizon,
        "season": season,
        "backtest_windows": args.windows,
        "holdout_cutoffs": [str(c.date()) for c in cutoffs],
        "n_series": int(history["unique_id"].nunique()),
        "seconds_total": round(time.monotonic() - started, 1),
        "seconds_by_family": {k: round(v, 1) for k, v in seconds.items()},
        "models": table[columns].to_dict(orient="records"),
        "coverage": mean_coverage,
        "weights": pd.concat(weights).to_dict(orient="records"),
        "weight_choice": pd.concat(choices).drop(columns="members").to_dict(orient="records"),
    }
    (args.output / "metrics.json").write_text(json.dumps(_jsonable(report), indent=2))
    print(f"\nmetrics written to {args.output / 'metrics.json'}")
    return 0


def _jsonable(value: object) -> object:
    """Plain JSON: undefined scores (NaN) become null, numpy numbers plain numbers."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, str | int | float | bool | None) else str(value)


def cmd_forecast(args: argparse.Namespace) -> int:
    """Fit every family on all history, learn the ensemble on the backtest, write the wide table."""
    return _guarded("forecast", lambda: _forecast(args))


def _forecast(args: argparse.Namespace) -> int:
    from nova_assets.lib.forecasting.demand_input import read_demand
    from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL

    if args.output.suffix.lower() not in OUTPUT_FORMATS:
        raise InputError(f"--output must end in {' or '.join(OUTPUT_FORMATS)}, not {args.output.name!r}")
    history, _ = read_demand(args.input, args.freq)
    season, families = _settings(args, history, 0)
    _, ensemble = _run_forecast(args, history, families, season)
    wide = ensemble.forecast.pivot_table(index=["unique_id", "ds"], columns="model", values="forecast")
    wide = wide.rename(columns={ENSEMBLE_MODEL: "ensemble"})
    members = [c for c in wide.columns if c != "ensemble"]
    quantiles = ensemble.quantiles.drop(columns=["forecast"]).set_index(["unique_id", "ds"])
    table = wide[["ensemble", *members]].join(quantiles).reset_index()
    table = table.rename(columns={"unique_id": "item_id", "ds": "period"})
    table["period"] = table["period"].dt.strftime("%Y-%m" if args.freq == "M" else "%Y-%m-%d")
    per_item = ensemble.fallbacks.set_index("unique_id")
    table.insert(2, "demand_class", table["item_id"].map(per_item["demand_class"]))
    table.insert(3, "fallback", table["item_id"].map(per_item["fallback"]))
    _report_fallbacks(ensemble.fallbacks)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.output.suffix.lower() == ".parquet":
        table.to_parquet(args.output, index=False)
    else:
        table.to_csv(args.output, index=False)
    print(f"{len(table)} rows ({table['item_id'].nunique()} items x {args.horizon} periods) written to {args.output}")
    return 0


def _report_fallbacks(fallbacks: pd.DataFrame) -> None:
    """Say, per kind of fallback, how many items got it and which (the output's `fallback` column has all)."""
    chosen = fallbacks[fallbacks["fallback"] != ""]
    if chosen.empty:
        _progress(f"every one of the {len(fallbacks)} items got its demand class's learned ensemble")
        return
    for reason, items in chosen.groupby("fallback")["unique_id"]:
        names = ", ".join(items.astype(str)[:5]) + (" ..." if len(items) > 5 else "")
        _progress(f"fallback for {len(items)} item(s) ({names}): {reason}")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate the forecast stage and the policy on every dev set given."""
    return _guarded("evaluate", lambda: _evaluate(args))


def _evaluate(args: argparse.Namespace) -> int:
    import os

    import pandas as pd

    from nova_assets.lib.evaluation.datasets import load_set
    from nova_assets.lib.evaluation.report import build_report, log_to_mlflow, markdown
    from nova_assets.lib.evaluation.runner import evaluate_forecast, evaluate_policy

    if args.origins < 1 or (args.windows is not None and args.windows < 1):
        raise InputError("--origins and --windows must be at least 1")
    families = _families(args.families)
    devsets = [load_set(spec) for spec in args.sets]  # every set is checked before the long run starts
    args.output.mkdir(parents=True, exist_ok=True)
    sections = []
    for devset in devsets:
        started = time.monotonic()
        step = args.step or max(1, math.ceil(devset.horizon / 2))
        results = evaluate_forecast(
            devset,
            families,
            args.origins,
            step,
            args.windows,
            args.n_jobs,
            args.seed,
            expensive_cap(args.max_expensive_series),
            _progress,
        )
        if args.keep_stage:
            for result in results:
                for name, frame in result.stage.items():
                    frame.to_parquet(args.output / f"{devset.name}_{result.cutoff.date()}_{name}.parquet", index=False)
        policy = pd.DataFrame()
        if not args.no_policy:
            try:
                policy = evaluate_policy(devset, seed=args.seed, progress=_progress)
            except InputError as exc:  # e.g. no demand to replay: the forecast tables still stand
                _progress(f"{devset.name}: stock policy not replayed: {exc}")
        report = build_report(devset, results, policy)
        text = markdown(report) + f"\nEvaluated in {time.monotonic() - started:.0f} s.\n"
        print(text, flush=True)
        sections.append(text)
        report.rolling.to_csv(args.output / f"{devset.name}_rolling.csv", index=False)
        report.standard.to_csv(args.output / f"{devset.name}_standard.csv", index=False)
        report.policy.to_csv(args.output / f"{devset.name}_policy.csv", index=False)
        if not args.no_mlflow:
            from nova_assets.services.local_stack import embedded_settings

            settings = embedded_settings()
            uri = os.environ.get("MLFLOW_TRACKING_URI") or settings["MLFLOW_TRACKING_URI"]
            params = {"families": ",".join(f.name for f in families), "origins": args.origins, "step": step}
            run_id = log_to_mlflow(report, uri, settings["NOVA_MLFLOW_ARTIFACT_ROOT"], params)
            print(f"MLflow run {run_id} ({uri})", file=sys.stderr)
    (args.output / "evaluation.md").write_text("\n".join(sections))
    print(f"tables written to {args.output}", file=sys.stderr)
    return 0
