"""MLflow bookkeeping: one run per model family per cycle, and one for the ensemble, each with its
model logged as a reloadable pyfunc model (see serving)."""

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

FORECAST_EXPERIMENT = "nova-corrente-forecast"
MODEL_URI_TAG = "nova.model_uri"
_NOT_IN_KEYS = re.compile(r"[^\w\-. :/]")  # MLflow refuses any other character in a param or metric name


def mlflow_key(name: str) -> str:
    """`name` with each character MLflow refuses in a key replaced by "_" (e.g. the ensemble's
    weight set "erratic+capped" becomes "erratic_capped")."""
    return _NOT_IN_KEYS.sub("_", name)


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
    axes[0, 0].legend(fontsize=7, ncol=4)
    fig.tight_layout()
    return fig


def ensure_experiment(client: MlflowClient, name: str, artifact_root: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = artifact_root if "://" in artifact_root else f"file://{artifact_root}"
    return client.create_experiment(name, artifact_location=f"{location.rstrip('/')}/{name}")


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
