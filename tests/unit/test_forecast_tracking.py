"""MLflow: the forecast experiment opens as a model-training experiment, and each cycle's model is
registered with the `champion` alias moved only when its backtest score is better."""

import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from mlflow.pyfunc import PythonModel
from mlflow.tracking import MlflowClient

import mlflow
from nova_assets.lib.forecasting.tracking import (
    CHAMPION,
    EXPERIMENT_KIND_TAG,
    TRAINING_EXPERIMENT,
    RunRecord,
    ensure_experiment,
    forecast_vs_actual,
    log_run,
)


class _Constant(PythonModel):
    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.Series:
        return pd.Series(self.value, index=model_input.index)


@pytest.fixture
def tracking_uri(tmp_path: Path) -> Iterator[str]:
    previous = mlflow.get_tracking_uri()
    yield f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(previous)


def test_the_experiment_is_tagged_for_model_training(tracking_uri: str, tmp_path: Path) -> None:
    client = MlflowClient(tracking_uri)
    new = ensure_experiment(client, "fresh", str(tmp_path / "a"))
    assert client.get_experiment(new).tags[EXPERIMENT_KIND_TAG] == TRAINING_EXPERIMENT
    old = client.create_experiment("made-before", artifact_location=f"file://{tmp_path / 'b'}")
    assert EXPERIMENT_KIND_TAG not in client.get_experiment(old).tags
    assert ensure_experiment(client, "made-before", str(tmp_path / "b")) == old
    assert client.get_experiment(old).tags[EXPERIMENT_KIND_TAG] == TRAINING_EXPERIMENT


def _cycle(tracking_uri: str, tmp_path: Path, rmsse: float) -> RunRecord:
    record = RunRecord(
        run_name=f"ensemble rmsse {rmsse}",
        metrics={"rmsse": rmsse},
        model=_Constant(rmsse),
        registered_name="nova-forecast-test",
        score=("rmsse", rmsse),
    )
    log_run(tracking_uri, "registry-test", str(tmp_path / "artifacts"), record)
    return record


def test_the_champion_moves_only_to_a_better_backtest(tracking_uri: str, tmp_path: Path) -> None:
    client = MlflowClient(tracking_uri)
    first = _cycle(tracking_uri, tmp_path, 0.70)
    assert first.champion.promoted and first.champion.champion_version is None
    assert str(client.get_model_version_by_alias("nova-forecast-test", CHAMPION).version) == "1"

    worse = _cycle(tracking_uri, tmp_path, 0.75)
    assert not worse.champion.promoted
    assert (worse.champion.champion_version, worse.champion.champion_score) == ("1", pytest.approx(0.70))
    assert str(client.get_model_version_by_alias("nova-forecast-test", CHAMPION).version) == "1"

    better = _cycle(tracking_uri, tmp_path, 0.65)
    assert better.champion.promoted
    champion = client.get_model_version_by_alias("nova-forecast-test", CHAMPION)
    assert str(champion.version) == "3"
    assert "promoted to champion" in champion.tags["nova.champion_comparison"]

    # the comparison is logged on each run too
    runs = {
        r.info.run_name: r for r in client.search_runs([client.get_experiment_by_name("registry-test").experiment_id])
    }
    assert runs["ensemble rmsse 0.75"].data.metrics["champion.promoted"] == 0.0
    assert runs["ensemble rmsse 0.75"].data.metrics["champion.previous_score"] == pytest.approx(0.70)
    assert "champion kept" in runs["ensemble rmsse 0.75"].data.tags["nova.champion_comparison"]
    assert runs["ensemble rmsse 0.65"].data.metrics["champion.promoted"] == 1.0
    # log_pyfunc logs every model with the forecast signature: its input is a history frame
    history = pd.DataFrame({"unique_id": ["S00"], "ds": [pd.Timestamp("2024-01-01")], "y": [1.0]})
    assert mlflow.pyfunc.load_model(f"models:/nova-forecast-test@{CHAMPION}").predict(history)[0] == 0.65


def test_the_backtest_figure_of_a_family_without_windows_is_empty_and_warns_nothing() -> None:
    columns = {
        "unique_id": [],
        "ds": pd.to_datetime([]),
        "cutoff": pd.to_datetime([]),
        "y": [],
        "model": [],
        "forecast": [],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = forecast_vs_actual(pd.DataFrame(columns))
    assert [ax.get_legend() for ax in figure.axes] == [None]
