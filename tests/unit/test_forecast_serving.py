"""Logged models reload from MLflow and forecast the same numbers as the cycle that logged them."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlflow
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.forecasting.models import FAMILIES
from nova_assets.lib.forecasting.pipeline import build_ensemble, run_family
from nova_assets.lib.forecasting.serving import EnsembleModel, FamilyModel, FamilySettings
from nova_assets.lib.forecasting.tracking import RunRecord, family_model_uris, log_run
from tests.unit.forecast_data import history, weekly_panel

FAMILY_NAMES = ["baseline", "intermittent", "statistical"]
KEYS = ["unique_id", "ds", "model"]


@pytest.fixture
def tracking_uri(tmp_path: Path) -> Iterator[str]:
    previous = mlflow.get_tracking_uri()
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    yield uri
    mlflow.set_tracking_uri(previous)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(KEYS, ignore_index=True)


def test_logged_models_reload_and_forecast_like_the_cycle(tracking_uri: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    panel = weekly_panel(n_series=5, weeks=30) | {"rare": np.where(rng.uniform(size=210) < 0.2, 3.0, 0.0)}
    frame = history(panel)
    runs = [run_family(frame, FAMILIES[name], horizon=7, season=7, n_jobs=1) for name in FAMILY_NAMES]
    assert runs[2].memo["ets"] and runs[2].memo["arima"]  # the forms selected on the first window
    result = build_ensemble(frame, pd.concat([r.backtest for r in runs]), pd.concat([r.forecast for r in runs]), 7)

    artifact_root = str(tmp_path / "artifacts")
    for run in runs:
        model = FamilyModel(FamilySettings(run.family, horizon=7, season=7), run.memo)
        record = RunRecord(run_name=run.family, tags={"nova.family": run.family, "dagster.run_id": "r1"}, model=model)
        log_run(tracking_uri, "serving-test", artifact_root, record)
    uris = family_model_uris(tracking_uri, "serving-test", FAMILY_NAMES, "r1")
    assert set(uris) == set(FAMILY_NAMES)
    ensemble = EnsembleModel(result.weights.by_class, FAMILY_NAMES)
    _, _, uri = log_run(
        tracking_uri,
        "serving-test",
        artifact_root,
        RunRecord(run_name="ensemble", model=ensemble, model_artifacts=uris),
    )

    predicted = mlflow.pyfunc.load_model(uri).predict(frame)
    expected = result.forecast[result.forecast["model"] == ENSEMBLE_MODEL]
    got = _sorted(predicted[predicted["model"] == ENSEMBLE_MODEL])
    pd.testing.assert_frame_equal(got[KEYS], _sorted(expected)[KEYS], check_dtype=False)
    np.testing.assert_allclose(got["forecast"], _sorted(expected)["forecast"], rtol=1e-9)
    statistical = predicted[predicted["model"].isin(["AutoETS", "AutoARIMA"])]
    np.testing.assert_allclose(_sorted(statistical)["forecast"], _sorted(runs[2].forecast)["forecast"], rtol=1e-9)


def test_names_mlflow_refuses_are_logged_with_underscores(tracking_uri: str, tmp_path: Path) -> None:
    # the ensemble's capped weight sets ("<class>+capped") appear once a business exceeds the cap
    record = RunRecord(
        run_name="ensemble", params={"weight.erratic+capped.AutoETS": 0.25}, metrics={"AutoETS+x.mase": 0.9}
    )
    _, run_id, _ = log_run(tracking_uri, "keys-test", str(tmp_path / "artifacts"), record)
    run = mlflow.tracking.MlflowClient(tracking_uri).get_run(run_id)
    assert run.data.params == {"weight.erratic_capped.AutoETS": "0.25"}
    assert run.data.metrics == {"AutoETS_x.mase": 0.9}
