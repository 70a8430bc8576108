"""The maintenance assets and the installed_base family asset run in process on a lake holding a
synthetic maintenance business (tests/unit/maintenance_data): what the cycle wires, not only the
functions behind it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from nova_assets.defs.forecast import families
from nova_assets.defs.forecast.ensemble import forecast_ensemble
from nova_assets.defs.maintenance.assets import FAILURE_MODEL_RUN, failure_model, obsolescence_risk
from nova_assets.lib.forecasting.installed_base import INSTALLED_BASE_FAMILY
from nova_assets.lib.forecasting.models import FAMILIES
from nova_assets.lib.lake_tables import (
    DAILY_DEMAND,
    ENSEMBLE_BACKTEST,
    ENSEMBLE_FORECAST,
    ERP_INSTALLED_BASE,
    ERP_MATERIALS,
    ERP_STOCK,
    ERP_WORK_ORDER_PARTS,
    ERP_WORK_ORDERS,
    FAILURE_MODEL,
    FAILURE_MODEL_SUMMARY,
    OBSOLESCENCE_RISK,
    WEATHER_DAILY,
    family_backtest,
    family_forecast,
)
from nova_assets.lib.maintenance import failure_model as failure_model_module
from nova_assets.lib.maintenance import outlook as outlook_module
from nova_assets.lib.maintenance.failure_model import FailureModel
from nova_assets.lib.maintenance.lifecycle import NO_INSTALLED_BASE, PHASING_OUT, installed_base_coverage
from nova_assets.lib.maintenance.parts_demand import INSTALLED_BASE_MODEL, order_parts, where_used
from nova_assets.resources import CycleConfig, LakeResource, MlflowResource
from tests.unit import maintenance_data

TOWERS = 12
ON_HAND = 5.0


@dataclass(frozen=True)
class MaintenanceLake:
    lake: LakeResource
    mlflow: MlflowResource
    data: maintenance_data.MaintenanceSample

    @property
    def resources(self) -> dict[str, dg.ConfigurableResource]:
        cycle = CycleConfig(horizon_days=28)
        return {"lake": self.lake, "mlflow": self.mlflow, "cycle": cycle}

    def run(self, assets: list[dg.AssetsDefinition]) -> dg.ExecuteInProcessResult:
        return dg.materialize(assets, resources=self.resources, selection=[key for a in assets for key in a.keys])


def family_asset(name: str) -> dg.AssetsDefinition:
    (asset,) = [a for a in families.defs().assets if dg.AssetKey(["forecast", f"forecast_{name}"]) in a.keys]
    return asset


def _demand(data: maintenance_data.MaintenanceSample, materials: pd.DataFrame) -> pd.DataFrame:
    """The daily issues of the orders' parts up to the end."""
    issued = order_parts(data.work_orders, data.work_order_parts)
    issued = issued[issued["movement_date"] <= pd.Timestamp(maintenance_data.END)]
    daily = issued.groupby(["material_id", "movement_date"], as_index=False)["quantity"].sum()
    daily = daily.rename(columns={"movement_date": "date", "quantity": "demand"})
    days = pd.date_range(maintenance_data.START, maintenance_data.END, freq="D")
    grid = pd.MultiIndex.from_product([materials["material_id"], days], names=["material_id", "date"])
    dense = daily.groupby(["material_id", "date"])["demand"].sum().reindex(grid, fill_value=0.0)
    return dense.reset_index()  # dense as the dbt mart: every material every day


def build_lake(tmp_path: Path, data: maintenance_data.MaintenanceSample) -> MaintenanceLake:
    lake = LakeResource(lake_dir=str(tmp_path / "lake"))
    successors = data.supersessions.set_index("material_id")["supersedes"]
    materials = maintenance_data.catalogue().assign(
        unit="UN", criticality="B", supplier_id="SUP-01", supersedes=lambda m: m["material_id"].map(successors)
    )
    lake.write(ERP_INSTALLED_BASE, data.installed_base)
    lake.write(ERP_WORK_ORDERS, data.work_orders)
    lake.write(ERP_WORK_ORDER_PARTS, data.work_order_parts)
    lake.write(WEATHER_DAILY, maintenance_data.weather())
    lake.write(ERP_MATERIALS, materials)
    end = pd.Timestamp(maintenance_data.END)
    lake.write(
        ERP_STOCK,
        pd.DataFrame(
            {"snapshot_date": end, "material_id": materials["material_id"], "site_id": "WH-SSA-01", "on_hand": ON_HAND}
        ),
    )
    lake.write(DAILY_DEMAND, _demand(data, materials))
    mlflow = MlflowResource(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        artifact_root=str(tmp_path / "mlruns"),
        ui_url="http://mlflow",
    )
    return MaintenanceLake(lake, mlflow, data)


@pytest.fixture(scope="module")
def business(tmp_path_factory: pytest.TempPathFactory) -> MaintenanceLake:
    return build_lake(tmp_path_factory.mktemp("maintenance"), maintenance_data.sample(TOWERS, 7))


def test_failure_model_logs_its_parameters_and_calibration_to_mlflow(business: MaintenanceLake) -> None:
    result = business.run([failure_model])
    metadata = result.asset_materializations_for_node("maintenance__failure_model")[0].metadata
    assert metadata["fitted"].value is True
    client = MlflowClient(tracking_uri=business.mlflow.tracking_uri)
    run = client.get_run(metadata["mlflow_run_id"].value)
    assert run.data.tags["nova.model"] == FAILURE_MODEL_RUN
    assert run.data.tags["nova.data"] == "no ERP file loaded"  # the tables are written straight to the lake
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"summary.csv", "calibration.csv"}
    summary = pd.read_csv(client.download_artifacts(run.info.run_id, "summary.csv"))
    assert set(summary["equipment_type"]) == set(business.lake.read(FAILURE_MODEL_SUMMARY)["equipment_type"])
    assert 0.5 < run.data.metrics["calibration.observed_over_expected"] < 2.0
    assert 0 < run.data.metrics["calibration.coverage_90"] <= 1


def test_the_installed_base_family_asset_forecasts_the_parts_the_orders_use(business: MaintenanceLake) -> None:
    result = business.run([family_asset(INSTALLED_BASE_FAMILY)])
    assert result.success
    forecast = business.lake.read(family_forecast(INSTALLED_BASE_FAMILY))
    used = set(business.data.work_order_parts["material_id"])
    assert set(forecast["model"]) == {INSTALLED_BASE_MODEL} and set(forecast["unique_id"]) <= used
    assert forecast["forecast"].sum() > 0


def test_without_work_orders_the_family_asset_is_not_applicable(tmp_path: Path) -> None:
    data = maintenance_data.sample(TOWERS, 7)
    empty = maintenance_data.MaintenanceSample(
        data.installed_base.iloc[0:0],
        data.work_orders.iloc[0:0],
        data.work_order_parts.iloc[0:0],
        data.supersessions,
        data.bill_of_materials,
        data.site_frailty,
    )
    bare = build_lake(tmp_path, data)
    for table, frame in ((ERP_INSTALLED_BASE, empty.installed_base), (ERP_WORK_ORDERS, empty.work_orders)):
        bare.lake.write(table, frame)
    bare.lake.write(ERP_WORK_ORDER_PARTS, empty.work_order_parts)
    result = bare.run([family_asset(INSTALLED_BASE_FAMILY)])
    metadata = result.asset_materializations_for_node("forecast__forecast_installed_base")[0].metadata
    assert "not_applicable" in metadata and metadata["forecast_rows"].value == 0


def test_superseded_and_phased_out_parts_through_the_forecast_assets(business: MaintenanceLake) -> None:
    """Supersession: the successor is forecast on its predecessor's history too, the predecessor not at
    all. Phase-out: the parts without installed base left (the replaced air conditioners' own parts) are
    forecast at zero by the ensemble although the intermittent methods still see their past demand, and
    so are they in the ensemble's backtest windows, each as it stood at its cutoff."""
    measured = [INSTALLED_BASE_FAMILY, "baseline", "intermittent"]
    assert business.run([family_asset(name) for name in measured]).success
    for name in set(FAMILIES) - set(measured):  # the other members forecast nothing here
        business.lake.write(family_forecast(name), business.lake.read(family_forecast("baseline")).iloc[0:0])
        business.lake.write(family_backtest(name), business.lake.read(family_backtest("baseline")).iloc[0:0])
    assert business.run([forecast_ensemble]).success
    old, new = business.data.supersessions.iloc[0][["supersedes", "material_id"]]
    baseline = business.lake.read(family_forecast("baseline"))
    assert old not in set(baseline["unique_id"]) and new in set(baseline["unique_id"])
    demand = business.lake.read(DAILY_DEMAND)
    last_week = demand[demand["material_id"].isin([old, new])].sort_values("date").groupby("date")["demand"].sum()
    naive = baseline[(baseline["unique_id"] == new) & (baseline["model"] == "SeasonalNaive")]
    assert naive["forecast"].sum() == pytest.approx(last_week.iloc[-7:].sum() * len(naive) / 7)

    intermittent = business.lake.read(family_forecast("intermittent"))
    ensemble = business.lake.read(ENSEMBLE_FORECAST)
    data, end = business.data, pd.Timestamp(maintenance_data.END)
    used = where_used(data.installed_base, data.work_orders, data.work_order_parts, end)
    coverage = installed_base_coverage(data.installed_base, used, end, end)
    gone = list(coverage.loc[coverage["status"] == NO_INSTALLED_BASE, "material_id"])
    assert gone
    assert intermittent[intermittent["unique_id"].isin(gone)]["forecast"].sum() > 0
    assert ensemble[ensemble["unique_id"].isin(gone)]["forecast"].abs().sum() == 0
    assert ensemble[~ensemble["unique_id"].isin(gone)]["forecast"].sum() > 0
    # the backtest windows the weights were learned on apply the same rule, as it stood at each cutoff
    windows = business.lake.read(ENSEMBLE_BACKTEST)
    assert windows["cutoff"].nunique() > 1
    for cutoff, rows in windows.groupby("cutoff"):
        used = where_used(data.installed_base, data.work_orders, data.work_order_parts, cutoff)
        coverage = installed_base_coverage(data.installed_base, used, cutoff, cutoff)
        gone_then = coverage.loc[coverage["status"] == NO_INSTALLED_BASE, "material_id"]
        assert len(gone_then) and rows[rows["unique_id"].isin(gone_then)]["forecast"].abs().sum() == 0, cutoff


def test_obsolescence_risk_forecasts_with_the_stored_failure_model(
    business: MaintenanceLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """obsolescence_risk reads the model failure_model fitted (maintenance/failure_model.json): a refit
    would fail here."""
    assert business.run([failure_model]).success
    stored = FailureModel.from_json(business.lake.read_json(FAILURE_MODEL))
    assert stored.to_json() == business.lake.read_json(FAILURE_MODEL)

    def no_refit(*args: object, **kwargs: object) -> None:
        raise AssertionError("obsolescence_risk refitted the failure model")

    monkeypatch.setattr(outlook_module, "fit_failure_model", no_refit)
    monkeypatch.setattr(failure_model_module, "fit_failure_model", no_refit)
    assert business.run([obsolescence_risk]).success
    risk = business.lake.read(OBSOLESCENCE_RISK)
    assert len(risk) and set(risk["status"]) <= {NO_INSTALLED_BASE, PHASING_OUT}
    assert (risk["on_hand"] == ON_HAND).all() and (risk["excess_units"] <= ON_HAND).all()
