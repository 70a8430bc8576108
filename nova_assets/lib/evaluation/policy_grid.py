"""The stock-policy grid of a dev set: the project's calibrated policy and the design baseline replayed
on the whole history (`nova policy-backtest`, lib.inventory.backtest_report.table_backtest) at every
lead time, service measure and target. One function for `nova evaluate` and bench/policy_bench.py,
so both print the same figures."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import pandas as pd

from nova_assets.lib.inventory.backtest_report import table_backtest
from nova_assets.lib.inventory.choices import Measure, ServiceTarget
from nova_assets.lib.inventory.demand_table import DemandMatrix
from nova_assets.lib.inventory.reorder import BASELINE_POLICY, PROJECT_POLICY
from nova_assets.lib.inventory.simulation import achieved, within

LEAD_TIMES = (1.0, 2.0, 3.0)
SERVICE_TARGETS = (0.90, 0.95, 0.98)
MEASURES = tuple(m.value for m in Measure)
TOLERANCE = 0.02  # issue 14: achieved service within 2 points of the target
POLICIES = {PROJECT_POLICY: "project", BASELINE_POLICY: "baseline"}


def policy_grid(
    matrix: DemandMatrix,
    freq: str,
    lead_times: Sequence[float] = LEAD_TIMES,
    targets: Sequence[float] = SERVICE_TARGETS,
    measures: Sequence[str] = MEASURES,
    *,
    calibrate: bool = True,
    seed: int = 0,
    progress: Callable[[dict], None] | None = None,
) -> pd.DataFrame:
    """One row per lead time, measure and target: each policy's cycle service, fill rate, stock on
    hand and inventory value (`<policy>_csl`, `_fill`, `_on_hand`, `_value`), the project's
    distance from the target in points of its own measure, and the wall and CPU seconds."""
    rows = []
    for lead_time in lead_times:
        for measure in measures:
            for target in targets:
                started, cpu = time.monotonic(), time.process_time()
                _, result = table_backtest(
                    matrix,
                    freq,
                    ServiceTarget(Measure(measure), target),
                    float(lead_time),
                    seed=seed,
                    calibrate=calibrate,
                )
                by = result.summary[result.summary["segment"] == "all"].set_index("policy")
                row: dict = {"lead_time": float(lead_time), "measure": measure, "target": target}
                for policy, tag in POLICIES.items():
                    row[f"{tag}_csl"] = float(by.loc[policy, "cycle_service_level"])
                    row[f"{tag}_fill"] = float(by.loc[policy, "fill_rate"])
                    row[f"{tag}_on_hand"] = float(by.loc[policy, "avg_on_hand"])
                    row[f"{tag}_value"] = float(by.loc[policy, "avg_inventory_value"])
                project = achieved(by.loc[PROJECT_POLICY], measure)
                row["off_target_points"] = 100 * (project - target)
                row["within_tolerance"] = within(project, target, TOLERANCE)
                row["items"] = int(by.loc[PROJECT_POLICY, "items"])
                row["seconds"], row["cpu_seconds"] = time.monotonic() - started, time.process_time() - cpu
                rows.append(row)
                if progress:
                    progress(row)
    return pd.DataFrame(rows)


def format_row(row: dict) -> str:
    """One grid row as a progress line."""
    return (
        f"L={row['lead_time']:g} {row['measure']:<9} {row['target']:.0%}: project csl {row['project_csl']:.1%} "
        f"fill {row['project_fill']:.1%} on hand {row['project_on_hand']:,.0f} "
        f"(off target {row['off_target_points']:+.1f} pt) | baseline csl {row['baseline_csl']:.1%} "
        f"fill {row['baseline_fill']:.1%} on hand {row['baseline_on_hand']:,.0f} | {row['seconds']:.1f} s"
    )


def summary_line(grid: pd.DataFrame) -> str:
    """How many cases the project's policy holds within TOLERANCE of its target."""
    return (
        f"{int(grid['within_tolerance'].sum())}/{len(grid)} cases within {100 * TOLERANCE:g} points of the target "
        f"(largest miss {grid['off_target_points'].abs().max():.1f} points)"
    )
