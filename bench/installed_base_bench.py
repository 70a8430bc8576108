"""The value of the maintenance inputs in the ensemble, on the SYNTHETIC sample business.

Generates the sample as `nova run` does (recorded Salvador weather; its installed base and work orders
drive the issues of the maintenance parts), takes the daily issues per material as the demand, and
backtests the history-only families, the `installed_base` family and, with --plan, the global boosting
models given the preventive plan (advance demand known at each origin) beside the same models without
it, on the same rolling origins. The ensemble weights are learned on the earlier origins and the
ensemble is scored on the later ones (out of sample), with and without the causal member (and with and
without the plan features), on the maintenance-driven materials and on the rest.

    .venv/bin/python bench/installed_base_bench.py [--materials 300 --sites 12 --years 3 --horizon 28]
    .venv/bin/python bench/installed_base_bench.py --families baseline,intermittent,statistical,gradient_boosting --plan
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.ensemble import combine, learn_weights
from nova_assets.lib.forecasting.installed_base import INSTALLED_BASE_FAMILY, MaintenanceInputs
from nova_assets.lib.forecasting.metrics import score_windows, summarise
from nova_assets.lib.forecasting.models import FAMILIES, cross_validate, with_maintenance
from nova_assets.lib.forecasting.panel import regularise
from nova_assets.lib.maintenance.outlook import phase_out_backtests
from nova_assets.lib.maintenance.parts_demand import order_parts
from nova_assets.lib.sample.erp_generator import generate_sample_business
from nova_assets.lib.sample.period import sample_period
from nova_assets.lib.sources.erp_files import read_erp_file
from nova_assets.lib.sources.openmeteo import SNAPSHOT, parse_openmeteo
from nova_assets.lib.sources.snapshots import load_snapshot

SEASON = 7
KEYS = ["unique_id", "ds", "cutoff"]
PLAN = "+plan"  # suffix of the boosting models given the preventive plan


def sample(folder: Path, args: argparse.Namespace, weather: pd.DataFrame) -> tuple[pd.DataFrame, MaintenanceInputs]:
    """The sample's daily issues per material (unique_id, ds, y) and its maintenance tables."""
    start, end = sample_period(pd.Timestamp(weather["date"].max()).date(), args.years)
    paths = generate_sample_business(
        folder,
        n_materials=args.materials,
        n_sites=args.sites,
        start=start,
        end=end,
        seed=args.seed,
        weather_daily=weather,
    )
    movements = pd.read_csv(paths["movements"], parse_dates=["movement_date"])
    issues = movements[movements["movement_type"] == "issue"]
    history = issues.groupby(["material_id", "movement_date"], as_index=False)["quantity"].sum()
    history = regularise(
        history.rename(columns={"material_id": "unique_id", "movement_date": "ds", "quantity": "y"}), "D"
    )
    tables = {
        name: read_erp_file(paths[name], f"erp_{name}").good
        for name in ("installed_base", "work_orders", "work_order_parts")
    }
    return history, MaintenanceInputs(
        tables["installed_base"], tables["work_orders"], tables["work_order_parts"], weather
    )


def ensemble_scores(
    backtest: pd.DataFrame, history: pd.DataFrame, learn: list, score: list, driven: set[str]
) -> pd.DataFrame:
    """Weights learned on the `learn` origins, the ensemble scored on the `score` origins, per group."""
    weights = learn_weights(backtest[backtest["cutoff"].isin(learn)], history, SEASON)
    ensemble = combine(backtest[backtest["cutoff"].isin(score)], weights, KEYS)
    scored = score_windows(history, ensemble, SEASON)
    scored["materials"] = np.where(scored["unique_id"].isin(driven), "maintenance-driven", "other")
    return summarise(scored, ["materials"]), weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--materials", type=int, default=300)
    parser.add_argument("--sites", type=int, default=12)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--windows", type=int, default=6, help="rolling origins, `horizon` days apart")
    parser.add_argument("--score-windows", type=int, default=2, help="the latest origins, scored out of sample")
    parser.add_argument("--families", default="baseline,intermittent,statistical")
    parser.add_argument(
        "--plan", action="store_true", help="also run gradient_boosting with the preventive plan as features"
    )
    args = parser.parse_args()
    pd.set_option("display.width", 160)

    weather = parse_openmeteo(load_snapshot(SNAPSHOT))
    with tempfile.TemporaryDirectory() as folder:
        history, inputs = sample(Path(folder), args, weather)
    driven = set(order_parts(inputs.work_orders, inputs.work_order_parts)["material_id"]) & set(history["unique_id"])
    print(
        f"SYNTHETIC sample: {history['unique_id'].nunique()} materials ({len(driven)} used by work orders), "
        f"{history['ds'].min().date()} .. {history['ds'].max().date()}, {len(inputs.installed_base)} units, "
        f"{int((inputs.work_orders['kind'] == 'corrective').sum())} failures"
    )
    families = [FAMILIES[name] for name in args.families.split(",")] + [
        with_maintenance(FAMILIES[INSTALLED_BASE_FAMILY], inputs)
    ]
    if args.plan:
        families.append(with_maintenance(FAMILIES["gradient_boosting"], inputs))
    backtests = []
    for family in families:
        began = time.monotonic()
        run = cross_validate(history, family, args.horizon, SEASON, args.windows, n_jobs=2)
        if family.name == "gradient_boosting" and family.forecaster is not FAMILIES[family.name].forecaster:
            run["model"] += PLAN
        backtests.append(run)
        print(f"  {family.name}: {args.windows} windows in {time.monotonic() - began:.1f} s", flush=True)
    # the members' windows phased out at each cutoff, as the cycle's ensemble takes them
    backtest = phase_out_backtests(
        pd.concat(backtests, ignore_index=True), inputs.installed_base, inputs.work_orders, inputs.work_order_parts
    )
    cutoffs = sorted(backtest["cutoff"].unique())
    learn, score = cutoffs[: -args.score_windows], cutoffs[-args.score_windows :]
    print(f"weights learned on origins {[str(pd.Timestamp(c).date()) for c in learn]}")
    print(f"scored on origins {[str(pd.Timestamp(c).date()) for c in score]}, {args.horizon} days each\n")

    for label, origins in (("scored origins", score), (f"all {len(cutoffs)} origins", cutoffs)):
        members = score_windows(history, backtest[backtest["cutoff"].isin(origins)], SEASON)
        members["materials"] = np.where(members["unique_id"].isin(driven), "maintenance-driven", "other")
        print(f"Members on the maintenance-driven materials ({label}):")
        print(
            summarise(members[members["materials"] != "other"], ["model"])
            .sort_values("rmsse")
            .round(3)
            .to_string(index=False)
            + "\n"
        )
        boosting = members[members["model"].str.removesuffix(PLAN).isin(["LightGBM", "XGBoost"])]
        print(f"Boosting members on the other materials ({label}):")
        print(summarise(boosting[boosting["materials"] == "other"], ["model"]).round(3).to_string(index=False) + "\n")

    planned = backtest["model"].str.endswith(PLAN)
    boosted = backtest["model"].isin(["LightGBM", "XGBoost"])
    variants = {"without InstalledBase": backtest[(backtest["model"] != "InstalledBase") & ~planned]}
    variants["with InstalledBase"] = backtest[~planned]
    if planned.any():  # the boosting members with the plan in place of those without it
        with_plan = backtest[~boosted].assign(model=lambda f: f["model"].str.removesuffix(PLAN))
        variants["with InstalledBase, boosting with plan"] = with_plan
        variants["without InstalledBase, boosting with plan"] = with_plan[with_plan["model"] != "InstalledBase"]
    rows = []
    for name, frame in variants.items():
        summary, weights = ensemble_scores(frame, history, learn, score, driven)
        rows.append(summary.assign(ensemble=name))
        print(f"{name}: weights {weights.by_class}")
    table = pd.concat(rows, ignore_index=True)
    columns = ["materials", "ensemble", "mase", "rmsse", "bias", "total_demand_error", "n_series"]
    print("\nEnsemble, out of sample:")
    print(
        table[[c for c in columns if c in table.columns]]
        .sort_values(["materials", "ensemble"])
        .round(3)
        .to_string(index=False)
    )


if __name__ == "__main__":
    main()
