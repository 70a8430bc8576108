"""`nova policy-backtest`: replay any long demand table under the project's policy and the baseline.

    nova policy-backtest --input demand.csv --freq M --lead-time 2 --service-level 0.95

The table needs an item, a date and a quantity column (names detected, or --id-col etc.);
quantities are summed into --freq periods and the lead time is in those periods. Prints the
comparison (fill rate, cycle service level, stockout periods, average on hand and inventory
value, orders), whether the project's policy lands within 2 points of the target, and the
service-stock curve (the project's policy at each --curve target). The project's nominal level is
calibrated on shadow replicas' simulated service before each decision (--no-calibration: off).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from nova_assets.forecast_cli import EXIT_BAD_INPUT
from nova_assets.lib.inventory.choices import CURVE_TARGETS, Measure, ServiceTarget
from nova_assets.lib.long_table import PERIODS, PERIODS_HELP, InputError, MissingColumn

TOLERANCE = 0.02


def add_inventory_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register the inventory commands on the `nova` parser's subparsers."""
    parser = subparsers.add_parser(
        "policy-backtest",
        help="replay a demand history under the project's reorder policy and the design's baseline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--input", required=True, type=Path, help="long demand table (CSV or Parquet)")
    parser.add_argument("--freq", required=True, choices=tuple(PERIODS), help=PERIODS_HELP)
    parser.add_argument("--lead-time", required=True, type=float, help="mean lead time, in periods")
    parser.add_argument("--lead-time-std", type=float, default=0.0, help="its standard deviation (default 0)")
    parser.add_argument("--service-level", type=float, default=0.95, help="target (default 0.95)")
    parser.add_argument(
        "--service-measure", choices=[m.value for m in Measure], default=Measure.CSL.value, help="default csl"
    )
    parser.add_argument("--lost-sales", action="store_true", help="unmet demand is lost (default: backordered)")
    parser.add_argument("--warmup", type=int, help="periods of history before the first decision (default 1 year)")
    parser.add_argument("--recompute-every", type=int, default=1, help="periods between policy re-estimations")
    parser.add_argument(
        "--cover-periods", type=float, default=1.0, help="order quantity = mean demand of this many periods"
    )
    parser.add_argument("--keep-leading-zeros", action="store_true", help="items start at their first row, not demand")
    parser.add_argument("--id-col")
    parser.add_argument("--date-col")
    parser.add_argument("--value-col")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-calibration",
        action="store_true",
        help="run the project's policy at the nominal target (default: the level calibrated on simulated service)",
    )
    parser.add_argument(
        "--curve",
        type=float,
        nargs="*",
        default=list(CURVE_TARGETS),
        help="targets of the service-stock curve (default: %(default)s; none to skip)",
    )
    parser.add_argument("--output", type=Path, help="write the per-item results to this CSV")
    parser.set_defaults(func=cmd_policy_backtest)


def cmd_policy_backtest(args: argparse.Namespace) -> int:
    # imported when the command runs: the replay's scipy and pandas would slow every `nova` start
    from nova_assets.lib.inventory.backtest_report import (
        format_table,
        measured_items,
        table_backtest,
        where_baseline_meets,
    )
    from nova_assets.lib.inventory.demand_table import to_matrix
    from nova_assets.lib.inventory.reorder import BASELINE_POLICY, PROJECT_POLICY
    from nova_assets.lib.inventory.simulation import achieved, within
    from nova_assets.lib.long_table import read_long_table

    started = time.monotonic()
    target = ServiceTarget(Measure(args.service_measure), args.service_level)
    try:
        matrix = to_matrix(
            read_long_table(args.input),
            args.freq,
            args.id_col,
            args.date_col,
            args.value_col,
            keep_leading_zeros=args.keep_leading_zeros,
        )
        simulation, result = table_backtest(
            matrix,
            args.freq,
            target,
            args.lead_time,
            args.lead_time_std,
            lost_sales=args.lost_sales,
            warmup=args.warmup,
            recompute_every=args.recompute_every,
            cover_periods=args.cover_periods,
            seed=args.seed,
            curve_targets=args.curve,
            calibrate=not args.no_calibration,
        )
    except InputError as exc:
        hint = f"; or name it with --{exc.what}-col" if isinstance(exc, MissingColumn) else ""
        print(f"nova policy-backtest: error: {args.input.name}: {exc}{hint}", file=sys.stderr)
        return EXIT_BAD_INPUT
    n, periods = matrix.values.shape
    warmup = simulation.warmup
    measured = measured_items(result)
    print(
        f"{args.input.name}: {n} items, {periods} periods ({matrix.periods[0]} .. {matrix.periods[-1]}), "
        f"{measured} items with measured periods after a {warmup}-period warm-up; lead time {args.lead_time:g}"
        f" ± {args.lead_time_std:g} periods; target {target}; "
        + ("lost sales" if args.lost_sales else "backorders")
        + ("; nominal level = target" if args.no_calibration else "; nominal level calibrated on simulated service")
    )
    print()
    print(format_table(result.summary))
    summary = result.summary.set_index("policy")
    project = achieved(summary.loc[PROJECT_POLICY], target.measure.value)
    baseline = achieved(summary.loc[BASELINE_POLICY], target.measure.value)
    ok = within(project, target.level, TOLERANCE)
    print()
    print(
        f"Project policy: {target.measure} {project:.1%} vs target {target.level:.1%} "
        f"({'within' if ok else 'NOT within'} {TOLERANCE:.0%} points); baseline {baseline:.1%}."
    )
    if baseline >= target.level:
        ratio = summary.loc[PROJECT_POLICY, "avg_inventory_value"] / summary.loc[BASELINE_POLICY, "avg_inventory_value"]
        print(f"The baseline meets the target; the project holds {ratio - 1:+.1%} inventory value against it.")
    meets = where_baseline_meets(result).set_index("policy")
    if not meets.empty:
        print(
            f"On the {int(meets.loc[BASELINE_POLICY, 'items'])} items whose own baseline outcome met the target (a "
            f"selection on luck, so biased toward the baseline): average inventory value "
            f"{meets.loc[PROJECT_POLICY, 'avg_inventory_value']:,.0f} (project) vs "
            f"{meets.loc[BASELINE_POLICY, 'avg_inventory_value']:,.0f} (baseline)."
        )
    if not result.curve.empty:
        print()
        print("Service-stock curve of the project's policy (every item at each target; value_per_point = stock")
        print("value each point of service reached costs over the previous target):")
        print()
        print(format_table(result.curve))
    if args.output:
        result.per_item.to_csv(args.output, index=False)
        print(f"Per-item results: {args.output}")
    print(f"Wall time {time.monotonic() - started:.1f} s.")
    return 0
