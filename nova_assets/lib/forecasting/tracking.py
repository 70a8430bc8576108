"""MLflow bookkeeping: one run per model family per cycle, and one for the ensemble, each with its
model logged as a reloadable pyfunc model (see serving).

The forecast experiment is marked as a model-training experiment (MLflow 3 reads the
`mlflow.experimentKind` tag and opens such an experiment on its runs, not on GenAI traces). Each
cycle registers its models in the Model Registry (one registered model per family and one for the
ensemble, a new version per cycle) and moves the `champion` alias to the new version only when its
backtest score is better than the current champion's; the comparison is logged on the run and the
version either way."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure
from mlflow.entities import Metric, Param, RunTag
from mlflow.pyfunc import PythonModel
from mlflow.tracking import MlflowClient

import mlflow
from nova_assets.lib.forecasting.serving import log_pyfunc

MODEL_URI_TAG = "nova.model_uri"
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"  # read by the MLflow 3 UI to choose the experiment's view
TRAINING_EXPERIMENT = "custom_model_development"  # its value for model training (not GenAI)
CHAMPION = "champion"
REGISTERED_MODEL_PREFIX = "nova-forecast-"  # + family name, or "ensemble"


def registered_model_name(family: str) -> str:
    return f"{REGISTERED_MODEL_PREFIX}{family}"


_NOT_IN_KEYS = re.compile(r"[^\w\-. :/]")  # MLflow refuses any other character in a param or metric name


def mlflow_key(name: str) -> str:
    """`name` with each character MLflow refuses in a key replaced by "_" (e.g. the ensemble's
    weight set "erratic+capped" becomes "erratic_capped")."""
    return _NOT_IN_KEYS.sub("_", name)


@dataclass(frozen=True)
class ChampionDecision:
    """The comparison of a new model version with the registered model's champion."""

    name: str
    version: str
    metric: str
    score: float
    champion_version: str | None
    champion_score: float | None
    promoted: bool

    def describe(self) -> str:
        if self.champion_version is None:
            return f"{self.name} v{self.version}: first champion ({self.metric} {self.score:.4f})"
        verdict = "promoted to champion" if self.promoted else "champion kept"
        return (
            f"{self.name} v{self.version} {self.metric} {self.score:.4f} vs champion v{self.champion_version} "
            f"{self.champion_score:.4f}: {verdict}"
        )


@dataclass
class RunRecord:
    """What to log for one run."""

    run_name: str
    params: dict[str, object] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    model: PythonModel | None = None
    model_artifacts: dict[str, str] = field(default_factory=dict)  # name -> URI, packed into the model
    registered_name: str | None = None  # register the model under this name and compare with its champion
    score: tuple[str, float] | None = None  # (metric, value), lower is better: what the champion is chosen on
    champion: ChampionDecision | None = None  # set by log_run when the model was registered


def forecast_vs_actual(backtest: pd.DataFrame, n_items: int = 4) -> Figure:
    """The last backtest window of the highest-demand items: actuals against every model, so a
    reviewer sees in the MLflow UI what the scores mean."""
    last = backtest[backtest["cutoff"] == backtest["cutoff"].max()]
    top = last.groupby("unique_id")["y"].sum().nlargest(n_items).index
    fig = Figure(figsize=(9, 2.4 * max(len(top), 1)))  # no pyplot: no display backend or global state
    axes = fig.subplots(max(len(top), 1), 1, squeeze=False, sharex=True)
    for ax, item in zip(axes[:, 0], top, strict=False):
        rows = last[last["unique_id"] == item]
        actual = rows.drop_duplicates("ds").sort_values("ds")
        ax.bar(actual["ds"], actual["y"], color="#cccccc", label="actual")
        for model, series in rows.groupby("model"):
            series = series.sort_values("ds")
            ax.plot(series["ds"], series["forecast"], label=str(model), linewidth=1.2)
        ax.set_title(str(item), fontsize=9)
    if len(top):  # a family without backtest windows (a table too short, no work orders) draws no series
        axes[0, 0].legend(fontsize=7, ncol=4)
    fig.tight_layout()
    return fig


def ensure_experiment(client: MlflowClient, name: str, artifact_root: str) -> str:
    """The experiment's id, created if missing; either way tagged as a model-training experiment."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.tags.get(EXPERIMENT_KIND_TAG) != TRAINING_EXPERIMENT:
            client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, TRAINING_EXPERIMENT)
        return experiment.experiment_id
    location = artifact_root if "://" in artifact_root else f"file://{artifact_root}"
    return client.create_experiment(
        name,
        artifact_location=f"{location.rstrip('/')}/{name}",
        tags={EXPERIMENT_KIND_TAG: TRAINING_EXPERIMENT},
    )


def register_and_compare(
    client: MlflowClient, run_id: str, model_uri: str, name: str, metric: str, score: float
) -> ChampionDecision:
    """A new version of registered model `name` from `model_uri`; the `champion` alias moves to it only
    if `score` (lower is better) beats the champion's, read from the champion version's run."""
    try:
        client.get_registered_model(name)
    except mlflow.exceptions.MlflowException:
        client.create_registered_model(name, description="Nova Corrente forecast model; `champion`: best backtest")
    version = client.create_model_version(name, model_uri, run_id=run_id).version
    try:
        champion = client.get_model_version_by_alias(name, CHAMPION)
    except mlflow.exceptions.MlflowException:
        champion = None
    champion_score = None
    if champion is not None and champion.run_id:
        champion_score = client.get_run(champion.run_id).data.metrics.get(mlflow_key(metric))
    promoted = champion_score is None or (math.isfinite(score) and score < champion_score)
    decision = ChampionDecision(
        name=name,
        version=str(version),
        metric=metric,
        score=score,
        champion_version=None if champion is None else str(champion.version),
        champion_score=champion_score,
        promoted=promoted,
    )
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, str(version))
    client.set_model_version_tag(name, str(version), "nova.champion_comparison", decision.describe())
    return decision


def log_run(tracking_uri: str, experiment: str, artifact_root: str, record: RunRecord) -> tuple[str, str, str | None]:
    """Create a finished run with params, metrics, tables, tags and the model; return (experiment_id,
    run_id, model URI or None). The model URI is also the run's tag MODEL_URI_TAG."""
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment_id = ensure_experiment(client, experiment, artifact_root)
    run = client.create_run(experiment_id, run_name=record.run_name, tags={k: str(v) for k, v in record.tags.items()})
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    metrics = [
        Metric(mlflow_key(k), float(v), now, 0) for k, v in record.metrics.items() if v is not None and math.isfinite(v)
    ]
    params = [Param(mlflow_key(k), str(v)[:6000]) for k, v in record.params.items()]
    client.log_batch(run_id, metrics=metrics, params=params, tags=[RunTag("nova.layer", "forecast")])
    for name, table in record.tables.items():
        client.log_text(run_id, table.to_csv(index=False), f"{name}.csv")
    for name, figure in record.figures.items():
        client.log_figure(run_id, figure, f"{name}.png")
    if record.model is None:
        client.set_terminated(run_id)
        return experiment_id, run_id, None
    mlflow.set_tracking_uri(tracking_uri)  # log_model works on the active run of the fluent API
    with mlflow.start_run(run_id=run_id):  # ends (finishes) the run on exit
        model_uri = log_pyfunc(record.model, record.model_artifacts or None)
        client.set_tag(run_id, MODEL_URI_TAG, model_uri)
        if record.registered_name and record.score is not None:
            metric, score = record.score
            decision = register_and_compare(client, run_id, model_uri, record.registered_name, metric, score)
            record.champion = decision
            client.log_batch(
                run_id,
                metrics=[
                    Metric("champion.promoted", float(decision.promoted), now, 0),
                    *(
                        [Metric("champion.previous_score", float(decision.champion_score), now, 0)]
                        if decision.champion_score is not None
                        else []
                    ),
                ],
                tags=[
                    RunTag("nova.registered_model", f"{decision.name}/{decision.version}"),
                    RunTag("nova.champion_comparison", decision.describe()),
                ],
            )
    return experiment_id, run_id, model_uri


def family_model_uris(tracking_uri: str, experiment: str, families: list[str], dagster_run_id: str) -> dict[str, str]:
    """The model URI of each family's latest run, that of the same Dagster run when there is one."""
    client = MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return {}
    uris = {}
    for family in families:
        runs = client.search_runs(
            [found.experiment_id],
            filter_string=f"tags.`nova.family` = '{family}'",
            order_by=["attributes.start_time DESC"],
            max_results=50,
        )
        logged = [r for r in runs if MODEL_URI_TAG in r.data.tags]
        same = [r for r in logged if r.data.tags.get("dagster.run_id") == dagster_run_id]
        if same or logged:
            uris[family] = (same or logged)[0].data.tags[MODEL_URI_TAG]
    return uris
