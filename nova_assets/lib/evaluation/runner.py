"""Run the whole forecast stage and the stock policy on a dev set, the way a cycle would run them.

Forecast: rolling origins, the last one the set's standard split (the last `horizon` periods held
out), each earlier one `step` periods before. At every origin the stage runs exactly as
`nova forecast` would on the data up to it (families, their inner backtest, the learned ensemble,
the quantiles) and every model is scored on the held-out periods, beside reference methods fitted
on every series (seasonal naive, naive, historic average, all-zero and the intermittent-demand
methods of the literature). A member scores on all series: where its family does not forecast a
series (routed to a fallback), the ensemble's forecast stands in, so every row covers the same
series; `own_share` says for what share of the scored windows (series x origin with an RMSSE:
some demand before the origin) the member forecasts itself.

Policy: the project's calibrated policy and the baseline replayed on the whole history at each
lead time, service measure and target (lib.evaluation.policy_grid).
"""

from __future__ import annotations

import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nova_assets.lib.evaluation.datasets import DevSet
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL, NOT_WEIGHTED, combine, hindsight_weights
from nova_assets.lib.forecasting.metrics import interval_coverage
from nova_assets.lib.forecasting.models import ZERO_MODEL, ModelFamily
from nova_assets.lib.forecasting.panel import pandas_freq
from nova_assets.lib.forecasting.pipeline import run_forecast
from nova_assets.lib.forecasting.quantiles import QUANTILES

MEMBER, ENSEMBLE, REFERENCE, HINDSIGHT = "member", "ensemble", "reference", "hindsight"
REFERENCE_PREFIX = "ref:"
HINDSIGHT_MODEL = "hindsight:Weights"  # the members weighted as the held-out periods would have asked

Progress = Callable[[str], None]


@dataclass
class OriginResult:
    """The stage at one origin: every model's forecast of the held-out periods and what the ensemble chose."""

    cutoff: pd.Timestamp
    predictions: pd.DataFrame  # unique_id, ds, cutoff, y, model, role, forecast, own
    coverage: dict[str, float] = field(default_factory=dict)
    weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    weight_report: pd.DataFrame = field(default_factory=pd.DataFrame)
    seconds: dict[str, float] = field(default_factory=dict)
    fallbacks: pd.DataFrame = field(default_factory=pd.DataFrame)
    stage: dict[str, pd.DataFrame] = field(default_factory=dict)  # the members' backtest and forecast, the holdout
    error: str | None = None


def origins(history: pd.DataFrame, horizon: int, n_origins: int, step: int) -> list[pd.Timestamp]:
    """Cutoffs oldest first: the last one leaves `horizon` periods out, each earlier one `step` before."""
    dates = np.sort(history["ds"].unique())
    last = len(dates) - 1 - horizon
    picked = [last - k * step for k in range(n_origins) if last - k * step >= 1]
    return [pd.Timestamp(dates[i]) for i in sorted(picked)]


def reference_forecasts(train: pd.DataFrame, horizon: int, season: int, freq: str, n_jobs: int) -> pd.DataFrame:
    """Long frame (unique_id, ds, model, forecast) of the reference methods on every series of `train`."""
    from statsforecast import StatsForecast
    from statsforecast.models import ADIDA, IMAPA, TSB, CrostonSBA, HistoricAverage, Naive, SeasonalNaive

    models = [Naive(), HistoricAverage(), CrostonSBA(), TSB(alpha_d=0.1, alpha_p=0.1), ADIDA(), IMAPA()]
    if season > 1:
        models.insert(0, SeasonalNaive(season_length=season))
    engine = StatsForecast(models=models, freq=pandas_freq(freq, train["ds"]), n_jobs=n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wide = engine.forecast(df=train[["unique_id", "ds", "y"]], h=horizon)
    wide = wide.reset_index(drop="unique_id" not in wide.index.names)
    wide[ZERO_MODEL] = 0.0
    long = wide.melt(id_vars=["unique_id", "ds"], var_name="model", value_name="forecast")
    long["forecast"] = long["forecast"].fillna(0.0).clip(lower=0.0)
    long["model"] = REFERENCE_PREFIX + long["model"]
    return long


def _scored_rows(stage_forecast: pd.DataFrame, references: pd.DataFrame, holdout: pd.DataFrame) -> pd.DataFrame:
    """Every model's forecast of the held-out periods, members completed with the ensemble's forecast.

    What the learned weights never choose from (ensemble.NOT_WEIGHTED) is not a member: the all-zero
    forecast is scored as the reference ref:Zero, and SilentRate, the forecast of the series without
    demand (where RMSSE is undefined), is in the Ensemble row."""
    members = stage_forecast[~stage_forecast["model"].isin(NOT_WEIGHTED)]
    wide = members.pivot_table(index=["unique_id", "ds"], columns="model", values="forecast")
    ensemble = wide[ENSEMBLE_MODEL]
    frames = []
    for model in wide.columns:
        own = wide[model].notna()
        frames.append(
            pd.DataFrame(
                {
                    "model": model,
                    "role": ENSEMBLE if model == ENSEMBLE_MODEL else MEMBER,
                    "forecast": wide[model].fillna(ensemble),
                    "own": own,
                },
                index=wide.index,
            )
        )
    refs = references.set_index(["unique_id", "ds"]).assign(role=REFERENCE, own=True)
    rows = pd.concat([*frames, refs], axis=0).reset_index()
    return rows.merge(holdout[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="inner")


def _hindsight_rows(
    train: pd.DataFrame, stage_forecast: pd.DataFrame, holdout: pd.DataFrame, cutoff: pd.Timestamp, season: int
) -> pd.DataFrame:
    """The members combined with the weights the ensemble's objective picks on the held-out periods
    themselves (ensemble.hindsight_weights), per demand class as the ensemble combines them. It has
    seen the answers, so it is no forecast: the gap between it and the ensemble is what a better
    choice of weights could still gain, and where it too misses a goal no weighting of these members
    meets it."""
    actual = holdout[["unique_id", "ds", "y"]]
    windows = stage_forecast.merge(actual, on=["unique_id", "ds"]).assign(cutoff=cutoff)
    combined = combine(stage_forecast, hindsight_weights(windows, train, season), ["unique_id", "ds"])
    rows = combined[["unique_id", "ds", "forecast"]].merge(actual, on=["unique_id", "ds"])
    return rows.assign(model=HINDSIGHT_MODEL, role=HINDSIGHT, own=True)


def evaluate_forecast(
    devset: DevSet,
    families: Sequence[ModelFamily],
    n_origins: int,
    step: int,
    n_windows: int | None,
    n_jobs: int,
    seed: int = 0,
    max_series: int | None = None,
    progress: Progress = print,
) -> list[OriginResult]:
    """The stage at every origin of `devset` (see the module docstring)."""
    history = devset.history
    results = []
    for cutoff in origins(history, devset.horizon, n_origins, step):
        train = history[history["ds"] <= cutoff]
        future = history[history["ds"] > cutoff]
        holdout = future[future["ds"] <= np.sort(future["ds"].unique())[devset.horizon - 1]]
        progress(f"{devset.name}: origin {cutoff.date()} ({train['ds'].nunique()} periods of history)")
        started = time.monotonic()
        try:
            runs, ensemble = run_forecast(
                train,
                families,
                devset.horizon,
                devset.season,
                n_windows=n_windows,
                n_jobs=n_jobs,
                freq=devset.freq,
                seed=seed,
                progress=progress,
                max_series=max_series,
            )
        except Exception as exc:  # the evaluation reports a failing stage and goes on with the next origin
            progress(f"{devset.name}: origin {cutoff.date()} FAILED: {type(exc).__name__}: {exc}")
            references = reference_forecasts(train, devset.horizon, devset.season, devset.freq, n_jobs)
            rows = references.assign(role=REFERENCE, own=True).merge(holdout, on=["unique_id", "ds"])
            error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            results.append(OriginResult(cutoff, rows.assign(cutoff=cutoff), error=error))
            continue
        seconds = {run.family: run.seconds for run in runs}
        seconds["stage"] = time.monotonic() - started
        references = reference_forecasts(train, devset.horizon, devset.season, devset.freq, n_jobs)
        stage_forecast = pd.concat([run.forecast for run in runs], ignore_index=True)
        scored = [_scored_rows(ensemble.forecast, references, holdout)]
        try:
            scored.append(_hindsight_rows(train, stage_forecast, holdout, cutoff, devset.season))
        except Exception as exc:  # a diagnostic: the origin's scores stand without it
            progress(f"{devset.name}: origin {cutoff.date()}: no hindsight weights: {type(exc).__name__}: {exc}")
        rows = pd.concat(scored, ignore_index=True).assign(cutoff=cutoff)
        results.append(
            OriginResult(
                cutoff=cutoff,
                predictions=rows,
                coverage=interval_coverage(holdout, ensemble.quantiles, QUANTILES),
                weights=ensemble.weights.table().assign(cutoff=cutoff),
                weight_report=ensemble.weights.report.assign(cutoff=cutoff),
                seconds=seconds,
                fallbacks=ensemble.fallbacks,
                stage={
                    "backtest": pd.concat([run.backtest for run in runs], ignore_index=True),
                    "forecast": stage_forecast,
                    "holdout": holdout,
                },
            )
        )
    _members_at_every_origin(results)
    return results


def _members_at_every_origin(results: list[OriginResult]) -> None:
    """Give every origin a row set for every member. A member that forecasts no series at an origin
    (a capped model when no series is old enough for it there) has no rows of its own at it; the
    ensemble stands in, as it does for a series the member does not forecast, so that every member's
    rolling score covers the same windows instead of skipping its hardest origin."""
    scored = [r for r in results if r.error is None]
    members = set().union(*(set(r.predictions.loc[r.predictions["role"] == MEMBER, "model"]) for r in scored))
    for result in scored:
        rows = result.predictions
        missing = sorted(members - set(rows.loc[rows["role"] == MEMBER, "model"]))
        ensemble = rows[rows["model"] == ENSEMBLE_MODEL]
        stand_ins = [ensemble.assign(model=model, role=MEMBER, own=False) for model in missing]
        result.predictions = pd.concat([rows, *stand_ins], ignore_index=True)


def evaluate_policy(devset: DevSet, seed: int = 0, progress: Progress = print) -> pd.DataFrame:
    """The policy grid (lib.evaluation.policy_grid, as bench/policy_bench.py) on the set's whole history."""
    from nova_assets.lib.evaluation.policy_grid import format_row, policy_grid
    from nova_assets.lib.inventory.demand_table import to_matrix

    matrix = to_matrix(devset.history, devset.freq, "unique_id", "ds", "y")
    return policy_grid(
        matrix, devset.freq, seed=seed, progress=lambda row: progress(f"{devset.name}: {format_row(row)}")
    )
