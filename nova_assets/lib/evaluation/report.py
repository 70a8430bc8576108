"""The evaluation's tables (per dev set: models over rolling origins and on the standard split, the
ensemble's bias origin by origin, the policy grid) as frames, Markdown, and one MLflow run per set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nova_assets.lib.evaluation.datasets import DevSet
from nova_assets.lib.evaluation.policy_grid import POLICIES, summary_line
from nova_assets.lib.evaluation.runner import ENSEMBLE, HINDSIGHT, HINDSIGHT_MODEL, MEMBER, REFERENCE, OriginResult
from nova_assets.lib.experiments import EVALUATION_EXPERIMENT
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.forecasting.metrics import paired_difference, score_windows, summarise

FULL_MEMBER = 0.9  # a member that forecasts at least this share of the scored windows itself competes as a single model
ROLE_ORDER = {ENSEMBLE: 0, MEMBER: 1, REFERENCE: 2, HINDSIGHT: 3}
MODEL_COLUMNS = ["role", "model", "mase", "rmsse", "bias", "d_rmsse", "z", "own_share", "n_series"]


@dataclass(frozen=True)
class SetReport:
    """Everything printed and logged for one dev set."""

    devset: DevSet
    rolling: pd.DataFrame  # MODEL_COLUMNS over every origin
    standard: pd.DataFrame  # MODEL_COLUMNS on the last origin (the standard split)
    by_origin: pd.DataFrame  # per origin: ensemble and best member's RMSSE and bias, the stage's seconds
    coverage: pd.DataFrame  # per origin: the ensemble quantiles' coverage
    choices: pd.DataFrame  # the ensemble's weight choices per origin and class
    policy: pd.DataFrame
    errors: list[str]


def model_table(predictions: pd.DataFrame, history: pd.DataFrame, season: int) -> pd.DataFrame:
    """MODEL_COLUMNS per model: scaled errors averaged over (series, origin) windows, bias over all,
    and the RMSSE's paired difference to the ensemble (d_rmsse, positive where the ensemble is
    better) with its z-score, clustered by series: |z| < 2 is a tie."""
    windows = score_windows(history, predictions, season)
    scores = summarise(windows, ["model"])
    by_window = windows.pivot_table(index=["unique_id", "cutoff"], columns="model", values="rmsse", dropna=False)
    if ENSEMBLE_MODEL in by_window.columns:
        series = by_window.index.get_level_values("unique_id").to_numpy()
        ensemble = by_window[ENSEMBLE_MODEL].to_numpy()
        paired = {m: paired_difference(by_window[m].to_numpy() - ensemble, series) for m in by_window.columns}
    else:
        paired = {}
    scores["d_rmsse"] = scores["model"].map(lambda m: paired.get(m, (np.nan, np.nan))[0])
    scores["z"] = scores["model"].map(lambda m: paired.get(m, (np.nan, np.nan))[1])
    # own_share over the scored windows: a series without demand before its origin has no RMSSE,
    # and a rule forecasts it (SilentRate); counting it would make a member that forecasts every
    # series it can look partial on a sparse table and drop it from the best members
    scored = pd.MultiIndex.from_frame(windows.loc[windows["rmsse"].notna(), ["unique_id", "model", "cutoff"]])
    own_window = predictions.groupby(["unique_id", "model", "cutoff"])["own"].any()
    own = own_window.reindex(scored).groupby(level="model").mean()
    role = predictions.drop_duplicates("model").set_index("model")["role"]
    table = scores.assign(role=scores["model"].map(role), own_share=scores["model"].map(own))
    table = table.sort_values(["role", "rmsse"], key=lambda c: c.map(ROLE_ORDER) if c.name == "role" else c)
    return table[MODEL_COLUMNS].reset_index(drop=True)


def build_report(devset: DevSet, results: list[OriginResult], policy: pd.DataFrame) -> SetReport:
    ok = [r for r in results if r.error is None]
    predictions = pd.concat([r.predictions for r in results], ignore_index=True)
    rolling = model_table(predictions, devset.history, devset.season)
    last = predictions[predictions["cutoff"] == predictions["cutoff"].max()]
    standard = model_table(last, devset.history, devset.season)
    origins = []
    for result in results:
        table = model_table(result.predictions, devset.history, devset.season).set_index("model")
        members = table[(table["role"] == MEMBER) & (table["own_share"] >= FULL_MEMBER)]
        best = members["rmsse"].idxmin() if len(members) else None
        origins.append(
            {
                "cutoff": str(result.cutoff.date()),
                "ensemble_rmsse": table["rmsse"].get("Ensemble", np.nan),
                "ensemble_bias": table["bias"].get("Ensemble", np.nan),
                "best_member": best,
                "best_member_rmsse": members["rmsse"].min() if best else np.nan,
                "best_member_bias": members.loc[best, "bias"] if best else np.nan,
                "best_member_z": members.loc[best, "z"] if best else np.nan,
                "hindsight_rmsse": table["rmsse"].get(HINDSIGHT_MODEL, np.nan),
                "seconds": round(result.seconds.get("stage", np.nan), 1),
                "error": result.error or "",
            }
        )
    coverage = pd.DataFrame([{"cutoff": str(r.cutoff.date()), **r.coverage} for r in ok])
    choices = pd.concat([r.weight_report for r in ok], ignore_index=True) if ok else pd.DataFrame()
    return SetReport(
        devset=devset,
        rolling=rolling,
        standard=standard,
        by_origin=pd.DataFrame(origins),
        coverage=coverage,
        choices=choices,
        policy=policy,
        errors=[r.error for r in results if r.error],
    )


# the ensemble and its best members are often within a few ten-thousandths: enough digits to rank them
FINE_DIGITS = {"rmsse": 4, "ensemble_rmsse": 4, "best_member_rmsse": 4, "hindsight_rmsse": 4, "d_rmsse": 5}


def _md(frame: pd.DataFrame, digits: int = 3) -> str:
    rounding = {c: FINE_DIGITS.get(c, digits) for c in frame.columns}
    return frame.round(rounding).to_markdown(index=False) if len(frame) else "(none)"


def markdown(report: SetReport) -> str:
    """The set's tables as Markdown, with the setting each was computed with."""
    s = report.devset
    n_origins = len(report.by_origin)
    parts = [
        f"## {s.name}\n\n{s.described}; {s.history['unique_id'].nunique()} series x {s.periods} periods, "
        f"freq {s.freq}, horizon {s.horizon}, season {s.season}.",
        f"\n### Rolling origins ({n_origins}: {', '.join(report.by_origin['cutoff'])}), mean over series x origin\n",
        _md(report.rolling),
        "\nd_rmsse: the model's RMSSE minus the ensemble's, window by window (positive: the ensemble is "
        "better); z: that mean over its standard error clustered by series (|z| < 2: within noise). "
        "hindsight:Weights: the members weighted as the held-out periods themselves would have asked (it has "
        "seen the answers, so it is no forecast): what a better choice of weights could still gain.\n",
        f"\n### Standard split (last {s.horizon} periods held out)\n",
        _md(report.standard),
        "\n### Origin by origin\n",
        _md(report.by_origin),
    ]
    if len(report.coverage):
        parts += ["\n### Ensemble quantile coverage (share of periods / of horizon totals at or below)\n"]
        parts += [_md(report.coverage)]
    if len(report.choices):
        shown = report.choices.copy()
        shown["cutoff"] = shown["cutoff"].astype(str).str[:10]
        wanted = (
            "cutoff",
            "demand_class",
            "choice",
            "fallback",
            "shrinkage",
            "cv_advantage_z",
            "best_model",
            "n_windows",
        )
        columns = [c for c in wanted if c in shown.columns]
        parts += ["\n### Ensemble weight choice\n", _md(shown[columns])]
        if "fallback" in shown.columns:
            learned = shown[shown["members"].str.contains(",")] if "members" in shown.columns else shown
            parts += [
                f"\nThe learned weights fell back to the best member (advantage within noise) in "
                f"{int(learned['fallback'].sum())} of {len(learned)} weight sets.\n"
            ]
    if len(report.policy):
        shown = report.policy.drop(columns=["seconds", "cpu_seconds"], errors="ignore")
        parts += [
            "\n### Stock policy (calibrated; whole-history replay; cycle-service and fill-rate targets)\n",
            _md(shown),
            f"\n{summary_line(report.policy)}.\n",
        ]
    if report.errors:
        parts += ["\n### Failures\n", *[f"- {e}" for e in report.errors]]
    return "\n".join(parts) + "\n"


def log_to_mlflow(report: SetReport, tracking_uri: str, artifact_root: str, params: dict[str, object]) -> str:
    """One finished MLflow run per set in EVALUATION_EXPERIMENT; returns its run id."""
    from nova_assets.lib.forecasting.tracking import RunRecord, log_run

    s = report.devset
    metrics = {}
    for name, table in (("rolling", report.rolling), ("standard", report.standard)):
        for row in table.itertuples():
            for metric in ("mase", "rmsse", "bias", "d_rmsse", "z"):
                value = float(getattr(row, metric))
                if np.isfinite(value) or metric not in ("d_rmsse", "z"):  # an infinite z (no spread) is not logged
                    metrics[f"{name}.{row.model}.{metric}"] = value
    for row in report.by_origin.itertuples():
        metrics[f"origin.{row.cutoff}.ensemble_bias"] = float(row.ensemble_bias)
    for row in report.policy.itertuples():
        for tag in POLICIES.values():
            key = f"policy.{tag}.L{row.lead_time:g}.{row.measure}{round(row.target * 100)}"
            metrics[f"{key}.cycle_service_level"] = float(getattr(row, f"{tag}_csl"))
            metrics[f"{key}.fill_rate"] = float(getattr(row, f"{tag}_fill"))
            metrics[f"{key}.avg_on_hand"] = float(getattr(row, f"{tag}_on_hand"))
    tables = {
        "rolling": report.rolling,
        "standard_split": report.standard,
        "by_origin": report.by_origin,
        "coverage": report.coverage,
        "weight_choice": report.choices,
        "policy": report.policy,
    }
    record = RunRecord(
        run_name=f"evaluate {s.name}",
        params={"set": s.name, "source": s.source, "freq": s.freq, "horizon": s.horizon, "season": s.season} | params,
        metrics=metrics,
        tables={k: v for k, v in tables.items() if len(v)},
        tags={"nova.evaluation_set": s.name, "nova.data": s.described},
    )
    _, run_id, _ = log_run(tracking_uri, EVALUATION_EXPERIMENT, artifact_root, record)
    return run_id
