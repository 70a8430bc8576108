"""The cycle's models as MLflow pyfunc models, so `mlflow.pyfunc.load_model(uri).predict(history)`
forecasts with the same code and the same choices as the cycle that logged them.

A model is not a set of fitted weights here: every family refits on the history it is given (that
is how the cycle forecasts too). What a cycle learns and a reload must keep is logged with it: per
family, its settings and the model forms it selected on the first backtest window (FitSpec.memo);
for the ensemble, the weights per demand class, the family models themselves (as artifacts) and the
maintenance tables its phase-out reads.
`predict` takes a long history frame (unique_id, ds, y; regular periods) and returns the long
forecast frame (unique_id, ds, model, forecast, demand_class): the models' logged SIGNATURE, which
MLflow enforces on the input.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel, PythonModelContext
from mlflow.types import ColSpec, Schema
from mlflow.types.schema import AnyType

import mlflow
import nova_assets
from nova_assets.lib.forecasting.ensemble import LearnedWeights, combine
from nova_assets.lib.forecasting.installed_base import MaintenanceInputs
from nova_assets.lib.forecasting.models import FAMILIES, fit_predict, with_maintenance
from nova_assets.lib.maintenance.outlook import phase_out_members

MODEL_ARTIFACT = "model"
# Explicit, so MLflow does not spend a minute inferring them: what `predict` imports, at the
# versions the cycle ran with (torch is the CPU build).
PIP_REQUIREMENTS = [
    f"{name}=={version(name)}"
    for name in (
        "mlflow",
        "pandas",
        "numpy",
        "scipy",
        "statsforecast",
        "prophet",
        "lightgbm",
        "xgboost-cpu",
        "torch",
        "holidays",
    )
]

# Explicit: MLflow infers no signature from `predict`'s `pd.DataFrame` type hint (it warned "Failed to
# infer model signature" on every model). MLflow checks each input against it before `predict`: ds is
# converted to datetime64 (from strings or dates too), other columns are dropped, a missing column is
# refused. y is any number: demand counts are usually int64, which a double column would refuse.
SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", "unique_id"), ColSpec("datetime", "ds"), ColSpec(AnyType(), "y")]),
    outputs=Schema(
        [
            ColSpec("string", "unique_id"),
            ColSpec("datetime", "ds"),
            ColSpec("string", "model"),
            ColSpec("double", "forecast"),
            ColSpec("string", "demand_class"),
        ]
    ),
)
# Shown with the model (MLflow warns without one) and predicted on once when it is logged: two days, so
# the per-series families skip it; only the baseline and installed_base (a failure-model fit, about
# 1.5 s for 12 towers) run.
INPUT_EXAMPLE = pd.DataFrame({"unique_id": "S00", "ds": pd.date_range("2024-01-01", periods=2), "y": [1.0, 0.0]})


@dataclass(frozen=True)
class FamilySettings:
    """How a family was run in the cycle."""

    family: str
    horizon: int
    season: int
    freq: str = "D"
    seed: int = 0
    n_jobs: int = 1


class FamilyModel(PythonModel):
    """One model family with its cycle settings and selected model forms; for the families that read
    plant maintenance (installed_base, gradient_boosting), the maintenance tables of its cycle too
    (the history alone does not say what failed or what is planned)."""

    maintenance: MaintenanceInputs | None = None  # a model logged before the attribute existed loads without it

    def __init__(self, settings: FamilySettings, memo: dict, maintenance: MaintenanceInputs | None = None) -> None:
        self.settings = settings
        self.memo = memo
        self.maintenance = maintenance

    def predict(self, context: PythonModelContext | None, model_input: pd.DataFrame, params: dict | None = None):
        s = self.settings
        history = model_input.assign(ds=pd.to_datetime(model_input["ds"]))
        family = (
            FAMILIES[s.family] if self.maintenance is None else with_maintenance(FAMILIES[s.family], self.maintenance)
        )
        return fit_predict(
            history, family, s.horizon, s.season, s.n_jobs, s.freq, s.seed, memo=copy.deepcopy(self.memo)
        )  # a copy: every call forecasts the same way


class EnsembleModel(PythonModel):
    """The learned ensemble: the member family models (artifacts) combined with the cycle's weights.
    With the cycle's maintenance tables, the members are first phased out as the cycle's ensemble does
    (outlook.phase_out_members, as of the history's last day), so a part without installed base left is
    served at zero there too."""

    maintenance: MaintenanceInputs | None = None  # a model logged before the attribute existed loads without it

    def __init__(
        self,
        weights: dict[str, dict[str, float]],
        families: list[str],
        maintenance: MaintenanceInputs | None = None,
    ) -> None:
        self.weights = weights
        self.families = families
        self.maintenance = maintenance
        self.members: dict[str, mlflow.pyfunc.PyFuncModel] = {}

    def load_context(self, context: PythonModelContext) -> None:
        self.members = {name: mlflow.pyfunc.load_model(context.artifacts[name]) for name in self.families}

    def predict(self, context: PythonModelContext | None, model_input: pd.DataFrame, params: dict | None = None):
        forecasts = pd.concat([self.members[name].predict(model_input) for name in self.families], ignore_index=True)
        if self.maintenance is not None:
            m = self.maintenance
            as_of = pd.to_datetime(model_input["ds"]).max()
            forecasts = phase_out_members(forecasts, m.installed_base, m.work_orders, m.work_order_parts, as_of)
        ensemble = combine(forecasts, LearnedWeights(self.weights, pd.DataFrame()), ["unique_id", "ds"])
        return pd.concat([forecasts, ensemble], ignore_index=True)


def log_pyfunc(python_model: PythonModel, artifacts: dict[str, str] | None = None) -> str:
    """Log a forecast model (history in, forecasts out: SIGNATURE) in the active MLflow run, code
    shipped with it; return its URI."""
    info = mlflow.pyfunc.log_model(
        name=MODEL_ARTIFACT,
        python_model=python_model,
        artifacts=artifacts,
        signature=SIGNATURE,
        input_example=INPUT_EXAMPLE,
        code_paths=[str(Path(nova_assets.__file__).parent)],
        pip_requirements=PIP_REQUIREMENTS,
    )
    return info.model_uri
