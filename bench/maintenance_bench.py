"""Failure-model benchmark on a SYNTHETIC business: parameter recovery, monthly calibration of the
rolling-origin backtest, and the causal parts member against the statistical families.

    python bench/maintenance_bench.py --towers 60 --cutoffs 6 --horizon-months 3
    python bench/maintenance_bench.py --towers 200 --skip-parts
    python bench/maintenance_bench.py --bias-seeds 12 --skip-parts   # out-of-sample bias over many businesses

The business is lib.sample.maintenance_generator's (the sample catalogue's items, N towers, the
recorded Salvador weather of data/snapshots over its four years). Everything printed is measured
here; nothing is real data.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.metrics import score_windows, summarise
from nova_assets.lib.forecasting.models import FAMILIES, backtest_cutoffs, cross_validate
from nova_assets.lib.forecasting.panel import regularise
from nova_assets.lib.maintenance.failure_model import backtest_failures, calibration, fit_failure_model
from nova_assets.lib.maintenance.parts_demand import causal_parts_forecast, order_parts
from nova_assets.lib.sample.maintenance_generator import EQUIPMENT_TYPES, generate_maintenance, item_catalogue
from nova_assets.lib.sources.openmeteo import SNAPSHOT, parse_openmeteo
from nova_assets.lib.sources.snapshots import load_snapshot

SEASON = 7


def recovery(summary: pd.DataFrame) -> pd.DataFrame:
    truth = {t.code: t for t in EQUIPMENT_TYPES}
    rows = []
    for row in summary.itertuples():
        kind_type = truth[row.equipment_type]
        for name in ("shape", "scale_years", "heat", "rain"):
            estimate, se, true = getattr(row, name), getattr(row, f"{name}_se"), getattr(kind_type, name)
            rows.append(
                {
                    "type": row.equipment_type,
                    "failures": row.failures,
                    "parameter": name,
                    "true": true,
                    "estimate": round(estimate, 3),
                    "se": round(se, 3),
                    "z": round((estimate - true) / se, 2),
                }
            )
    return pd.DataFrame(rows)


def parts_member(data, weather: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, windows: int, horizon: int):
    """Rolling-origin scores of the causal member and of the baseline/intermittent families on the daily
    parts the work orders issued (the demand here is maintenance only: an upper bound of the member's
    value on a real mix)."""
    issued = order_parts(data.work_orders, data.work_order_parts)
    history = issued.groupby(["material_id", "movement_date"], as_index=False)["quantity"].sum()
    history = history.rename(columns={"material_id": "unique_id", "movement_date": "ds", "quantity": "y"})
    history = regularise(history[(history["ds"] >= start) & (history["ds"] <= end)], "D")
    cutoffs = backtest_cutoffs(history, horizon, windows)
    rows = []
    for cutoff in cutoffs:
        model = fit_failure_model(data.installed_base, data.work_orders, weather, start, cutoff)
        member = causal_parts_forecast(
            model, data.installed_base, data.work_orders, data.work_order_parts, cutoff, horizon
        ).long
        actual = history.loc[history["ds"] > cutoff, ["unique_id", "ds", "y"]]
        rows.append(member.merge(actual, on=["unique_id", "ds"], how="inner").assign(cutoff=cutoff))
    predictions = [pd.concat(rows, ignore_index=True)]
    for name in ("baseline", "intermittent"):
        predictions.append(cross_validate(history, FAMILIES[name], horizon, SEASON, windows))
    scored = score_windows(history, pd.concat(predictions, ignore_index=True), SEASON)
    kits = data.bill_of_materials.loc[data.bill_of_materials["kind"] == "preventive", "material_id"]
    successors = dict(zip(data.supersessions["supersedes"], data.supersessions["material_id"], strict=True))
    planned = set(kits) | {successors[m] for m in kits if m in successors}
    scored["demand"] = np.where(scored["unique_id"].isin(planned), "preventive kit", "corrective only")
    summary = summarise(scored, ["demand", "model"]).sort_values(["demand", "mase"])
    return summary, history["unique_id"].nunique(), cutoffs


def bias_over_seeds(seeds: range, towers: int, weather: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """One origin six months before the end per generated business: observed / expected failures
    over the six months, per business and pooled per type (is the forecast biased?)."""
    cutoff = (end - pd.offsets.MonthEnd(7)).normalize()
    sites = pd.DataFrame({"site_id": [f"TWR-{i:03d}" for i in range(towers)], "site_type": "tower"})
    rows = []
    for seed in seeds:
        data = generate_maintenance(item_catalogue(), sites, weather, start=start.date(), end=end.date(), seed=seed)
        backtest = backtest_failures(data.installed_base, data.work_orders, weather, start, [cutoff], 6, n_draws=100)
        rows.append(backtest.assign(seed=seed))
    both = pd.concat(rows, ignore_index=True)
    per_seed = both.groupby("seed")[["expected", "observed"]].sum()
    per_seed["observed_over_expected"] = per_seed["observed"] / per_seed["expected"]
    print(f"\nOut-of-sample bias: {len(seeds)} businesses, origin {cutoff.date()}, 6 months ahead")
    print(per_seed.round(3).reset_index().to_string(index=False))
    print(calibration(both).round(3).to_string(index=False))
    total = both["observed"].sum() / both["expected"].sum()
    print(f"pooled observed / expected = {total:.3f} over {int(both['observed'].sum())} failures")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--towers", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cutoffs", type=int, default=6, help="monthly origins of the failure backtest")
    parser.add_argument("--horizon-months", type=int, default=3)
    parser.add_argument("--draws", type=int, default=400)
    parser.add_argument("--parts-windows", type=int, default=4, help="30-day windows of the parts backtest")
    parser.add_argument("--skip-parts", action="store_true")
    parser.add_argument("--bias-seeds", type=int, default=0, help="extra businesses for the out-of-sample bias check")
    args = parser.parse_args()
    pd.set_option("display.width", 160)

    weather = parse_openmeteo(load_snapshot(SNAPSHOT))
    start, end = pd.Timestamp(weather["date"].min()), pd.Timestamp(weather["date"].max())
    sites = pd.DataFrame({"site_id": [f"TWR-{i:03d}" for i in range(args.towers)], "site_type": "tower"})
    began = time.monotonic()
    data = generate_maintenance(item_catalogue(), sites, weather, start=start.date(), end=end.date(), seed=args.seed)
    generated = time.monotonic() - began
    orders = data.work_orders
    print(f"SYNTHETIC business: {args.towers} towers, {len(data.installed_base)} units, {start.date()} .. {end.date()}")
    print(f"  {int((orders['kind'] == 'corrective').sum())} corrective / {int((orders['kind'] == 'preventive').sum())}")
    print(f"  preventive orders, {len(data.work_order_parts)} part lines; generated in {generated:.1f} s")

    began = time.monotonic()
    model = fit_failure_model(data.installed_base, orders, weather, start, end)
    print(f"\nParameter recovery (fit on all {len(pd.date_range(start, end))} days, {time.monotonic() - began:.1f} s):")
    table = recovery(model.summary)
    print(table.to_string(index=False))
    print(f"  mean z^2 = {float((table['z'] ** 2).mean()):.2f} (1 when the standard errors are right)")
    truth = data.site_frailty
    print(f"  site frailty correlation = {np.corrcoef(model.site_effects().loc[truth.index], truth)[0, 1]:.2f}")

    last_cutoff = (end - pd.offsets.MonthEnd(args.horizon_months + 1)).normalize()
    cutoffs = [last_cutoff - pd.offsets.MonthEnd(k) for k in range(args.cutoffs - 1, -1, -1)]
    cutoffs = [c if c.is_month_end else c + pd.offsets.MonthEnd(0) for c in cutoffs]
    began = time.monotonic()
    backtest = backtest_failures(
        data.installed_base, orders, weather, start, cutoffs, args.horizon_months, n_draws=args.draws
    )
    print(
        f"\nFailure backtest: {len(cutoffs)} monthly origins {cutoffs[0].date()} .. {cutoffs[-1].date()},"
        f" {args.horizon_months} months ahead ({time.monotonic() - began:.1f} s)"
    )
    monthly = backtest.groupby(["cutoff", "period"]).agg(expected=("expected", "sum"), observed=("observed", "sum"))
    print("Predicted vs observed failures per month (all types; one row per origin and month):")
    print(monthly.round(1).reset_index().to_string(index=False))
    print("\nCalibration per type (90 % interval = simulated p5..p95 per origin, month and type):")
    print(calibration(backtest).round(3).to_string(index=False))
    print("\nCalibration per months ahead:")
    print(calibration(backtest, by=["step"]).round(3).to_string(index=False))
    overall = calibration(backtest.assign(all="all"), by=["all"]).iloc[0]
    print(
        f"\nOverall: observed / expected = {overall['observed_over_expected']:.3f},"
        f" 90 % interval coverage = {overall['coverage_90']:.3f} over {int(overall['cells'])} cells"
    )

    if args.bias_seeds:
        bias_over_seeds(range(args.seed + 1, args.seed + 1 + args.bias_seeds), args.towers, weather, start, end)

    if not args.skip_parts:
        began = time.monotonic()
        summary, n_series, windows = parts_member(data, weather, start, end, args.parts_windows, 30)
        print(
            f"\nParts demand from causes vs the families: {n_series} materials, daily, {len(windows)} windows"
            f" of 30 days ({time.monotonic() - began:.1f} s). Demand here is maintenance only."
        )
        columns = ["demand", "model", "n_series", "mase", "rmsse", "total_demand_error", "bias", "sum_forecast"]
        columns += ["sum_actual"]
        print(summary[columns].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
