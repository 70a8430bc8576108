"""Logged models reload from MLflow and forecast the same numbers as the cycle that logged them."""

import logging
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.types import DataType
from mlflow.types.schema import AnyType

import mlflow
from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.forecasting.installed_base import MaintenanceInputs
from nova_assets.lib.forecasting.models import FAMILIES, fit_predict
from nova_assets.lib.forecasting.pipeline import build_ensemble, run_family
from nova_assets.lib.forecasting.serving import EnsembleModel, FamilyModel, FamilySettings
from nova_assets.lib.forecasting.tracking import RunRecord, family_model_uris, log_run
from nova_assets.lib.maintenance.outlook import phase_out_backtests, phase_out_members
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


def _maintenance() -> MaintenanceInputs:
    """Part `rare` is used only by unit U1, decommissioned before the history ends (2024-07-28): phased
    out to zero; S01 by U2, still in service."""
    base = pd.DataFrame(
        {
            "equipment_id": ["U1", "U2"],
            "equipment_type": "BATTERY",
            "model": ["OLD", "NEW"],
            "site_id": "T1",
            "install_date": date(2015, 1, 1),
            "decommission_date": [date(2024, 7, 1), None],
            "status": "active",
        }
    )
    serviced = pd.Timestamp("2024-03-01")  # one completed preventive order per unit
    orders = base[["equipment_id", "site_id"]].assign(
        work_order_id=["W1", "W2"],
        kind="preventive",
        created_date=serviced - pd.Timedelta(days=30),
        planned_date=serviced,
        failure_date=None,
        completion_date=serviced,
        status="completed",
    )
    parts = pd.DataFrame({"work_order_id": ["W1", "W2"], "material_id": ["rare", "S01"], "quantity": 1.0})
    return MaintenanceInputs(base, orders, parts, pd.DataFrame())


def test_logged_models_reload_and_forecast_like_the_cycle(tracking_uri: str, tmp_path: Path) -> None:
    """Including the cycle's phase-out: the served ensemble of a part without installed base is zero."""
    rng = np.random.default_rng(0)
    panel = weekly_panel(n_series=5, weeks=30) | {"rare": np.where(rng.uniform(size=210) < 0.2, 3.0, 0.0)}
    frame = history(panel)
    runs = [run_family(frame, FAMILIES[name], horizon=7, season=7, n_jobs=1) for name in FAMILY_NAMES]
    assert runs[2].memo["ets"] and runs[2].memo["arima"]  # the forms selected on the first window
    maintenance = _maintenance()
    tables = (maintenance.installed_base, maintenance.work_orders, maintenance.work_order_parts)
    raw = pd.concat([r.forecast for r in runs])
    assert (raw.loc[raw["unique_id"] == "rare", "forecast"] > 0).any()
    forecasts = phase_out_members(raw, *tables, frame["ds"].max())  # as the cycle's ensemble asset does
    backtests = phase_out_backtests(pd.concat([r.backtest for r in runs]), *tables)
    result = build_ensemble(frame, backtests, forecasts, 7)

    artifact_root = str(tmp_path / "artifacts")
    for run in runs:
        model = FamilyModel(FamilySettings(run.family, horizon=7, season=7), run.memo)
        record = RunRecord(run_name=run.family, tags={"nova.family": run.family, "dagster.run_id": "r1"}, model=model)
        log_run(tracking_uri, "serving-test", artifact_root, record)
    uris = family_model_uris(tracking_uri, "serving-test", FAMILY_NAMES, "r1")
    assert set(uris) == set(FAMILY_NAMES)
    ensemble = EnsembleModel(result.weights.by_class, FAMILY_NAMES, maintenance)
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
    assert (got.loc[got["unique_id"] == "rare", "forecast"] == 0).all()
    assert (got.loc[got["unique_id"] == "S01", "forecast"] > 0).any()
    statistical = predicted[predicted["model"].isin(["AutoETS", "AutoARIMA"])]
    cycle_statistical = forecasts[forecasts["model"].isin(["AutoETS", "AutoARIMA"])]
    np.testing.assert_allclose(_sorted(statistical)["forecast"], _sorted(cycle_statistical)["forecast"], rtol=1e-9)


def test_a_logged_model_documents_its_input_and_takes_dates_as_strings_and_counts_as_integers(
    tracking_uri: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow infers no signature from `predict`'s DataFrame type hint and warned on every model the
    cycle logged; the explicit signature documents the history columns, converts ds and takes int64 counts."""
    monkeypatch.setattr(logging.getLogger("mlflow"), "propagate", True)  # else caplog never sees MLflow's log
    frame = history(weekly_panel(n_series=3, weeks=10))
    model = FamilyModel(FamilySettings("baseline", horizon=7, season=7), {})
    with caplog.at_level(logging.WARNING, logger="mlflow"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, _, uri = log_run(
            tracking_uri, "signature-test", str(tmp_path / "artifacts"), RunRecord(run_name="baseline", model=model)
        )
    messages = [r.getMessage() for r in caplog.records] + [str(w.message) for w in caught]
    assert [m for m in messages if "signature" in m or "input example" in m] == []
    served = mlflow.pyfunc.load_model(uri)
    assert served.metadata.get_input_schema().input_types_dict() == {
        "unique_id": DataType.string,
        "ds": DataType.datetime,
        "y": AnyType(),
    }
    as_strings = frame.assign(ds=frame["ds"].dt.strftime("%Y-%m-%d"), y=frame["y"].round().astype("int64"))
    expected = fit_predict(as_strings.assign(ds=frame["ds"]), FAMILIES["baseline"], horizon=7, season=7)
    pd.testing.assert_frame_equal(served.predict(as_strings), expected, check_dtype=False)


def test_names_mlflow_refuses_are_logged_with_underscores(tracking_uri: str, tmp_path: Path) -> None:
    # the ensemble's capped weight sets ("<class>+capped") appear once a business exceeds the cap
    record = RunRecord(
        run_name="ensemble", params={"weight.erratic+capped.AutoETS": 0.25}, metrics={"AutoETS+x.mase": 0.9}
    )
    _, run_id, _ = log_run(tracking_uri, "keys-test", str(tmp_path / "artifacts"), record)
    run = mlflow.tracking.MlflowClient(tracking_uri).get_run(run_id)
    assert run.data.params == {"weight.erratic_capped.AutoETS": "0.25"}
    assert run.data.metrics == {"AutoETS_x.mase": 0.9}


def test_a_model_pickled_before_the_maintenance_attribute_still_loads() -> None:
    """Registered models from earlier cycles (the champion alias may point at one) unpickle without
    `maintenance`; they must read as "no maintenance tables", not raise AttributeError."""
    import pickle

    from nova_assets.lib.forecasting.serving import EnsembleModel, FamilyModel, FamilySettings

    for model in (EnsembleModel({}, []), FamilyModel(FamilySettings("baseline", 7, 7), {})):
        del model.__dict__["maintenance"]  # what an object pickled by the older class holds
        assert pickle.loads(pickle.dumps(model)).maintenance is None
