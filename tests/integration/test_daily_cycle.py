"""The whole daily cycle, in process, on a small synthetic business, checked in Postgres and MLflow."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pandas as pd
from mlflow.tracking import MlflowClient

from nova_assets.dbt_projects import RUN_TARGETS_KEPT, features_project, gold_project
from nova_assets.defs.maintenance.assets import CALIBRATED
from nova_assets.lib.forecasting.models import FAMILIES
from nova_assets.lib.gold.connection import redact_url
from nova_assets.lib.gold.summary import GOLD_TABLES, gold_summary
from tests.integration.conftest import CYCLE_HORIZON, CYCLE_MATERIALS, Cycle


def test_cycle_succeeds_with_every_layer(daily_cycle: Cycle) -> None:
    result = daily_cycle.result
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    for key in (
        "raw/erp_movements",
        "raw/weather_daily",
        "raw/economics_selic",
        "raw/holidays",
        "raw/anatel_5g_monthly",
        "feat_item_daily",
        "forecast/forecast_intermittent",
        "forecast/forecast_ensemble",
        "inventory/reorder_points",
        "inventory/alerts",
        "inventory/policy_backtest",
        "gold/alerts",
        "gold/policy_backtest",
        "delivery/daily_report",
        "delivery/alert_dispatch",
    ):
        assert key in materialized, key


def test_dbt_tests_ran_as_passing_asset_checks(daily_cycle: Cycle) -> None:
    """Every check passes but the failure model's calibration, a warning that may fail on this business:
    its backtest origins refit on a year of 3 towers, a handful of failures per type."""
    evaluations = daily_cycle.result.get_asset_check_evaluations()
    assert len(evaluations) > 20
    failed = [e for e in evaluations if not e.passed]
    assert [e.check_name for e in failed if e.check_name != CALIBRATED] == []
    assert all(e.severity == dg.AssetCheckSeverity.WARN and "observed/expected" in e.description for e in failed)
    assert CALIBRATED in {e.check_name for e in evaluations}


def test_forecast_tracking_is_built_and_watched_from_the_first_cycle(daily_cycle: Cycle) -> None:
    """No day after the only cycle is observed yet: the mart is empty and its bias check runs as an asset check."""
    assert daily_cycle.gold("SELECT count(*) FROM marts.forecast_tracking")[0][0] == 0
    checks = {(e.asset_key.path[-1], e.check_name) for e in daily_cycle.result.get_asset_check_evaluations()}
    assert ("forecast_tracking", "forecast_tracking_bias_within_tolerance") in checks


def test_gold_holds_every_material(daily_cycle: Cycle) -> None:
    materials = daily_cycle.gold("SELECT count(*) FROM core.materials")[0][0]
    assert materials == CYCLE_MATERIALS
    # a superseded part is planned as its successor (test_superseded_parts_are_planned_and_alerted_...)
    superseded = daily_cycle.gold("SELECT count(*) FROM core.materials WHERE supersedes IS NOT NULL")[0][0]
    planned = CYCLE_MATERIALS - superseded
    for table in ("analytics.reorder_points", "analytics.alerts"):
        assert daily_cycle.gold(f"SELECT count(DISTINCT material_id) FROM {table}")[0][0] == planned
    per_material = daily_cycle.gold(
        "SELECT material_id, count(*) FROM analytics.forecasts WHERE model = 'Ensemble' GROUP BY material_id"
    )
    assert len(per_material) == planned
    assert {n for _, n in per_material} == {CYCLE_HORIZON}


def test_the_gold_summary_counts_every_gold_table(daily_cycle: Cycle) -> None:
    lines = gold_summary(daily_cycle.gold_url).splitlines()
    assert redact_url(daily_cycle.gold_url) in lines[0]  # where a BI tool finds it, without the password
    savings = daily_cycle.gold("SELECT savings_brl FROM marts.kpi_daily ORDER BY cycle_date DESC LIMIT 1")[0][0]
    kpis = next(line for line in lines if line.lstrip().startswith("KPIs:"))
    assert "R$ -" not in kpis and ("above the design formula" in kpis) == (savings is not None and savings < 0)
    counts = {line.split()[0]: int(line.split()[1].replace(",", "")) for line in lines if line.endswith(" rows")}
    assert list(counts) == list(GOLD_TABLES)
    assert counts["core.materials"] == CYCLE_MATERIALS
    assert counts["analytics.alerts"] == daily_cycle.gold("SELECT count(*) FROM analytics.alerts")[0][0] > 0


def test_supplier_performance_is_measured_on_purchase_orders_and_their_receipts(daily_cycle: Cycle) -> None:
    received, linked = daily_cycle.gold(
        "SELECT count(*) FILTER (WHERE received_date IS NOT NULL), count(*) FROM analytics.purchase_orders"
    )[0]
    assert linked > 0 and received > 0
    rows = daily_cycle.gold("SELECT basis, orders_received, on_time_rate FROM marts.supplier_performance")
    assert rows and {basis for basis, _, _ in rows} == {"erp_purchase_orders"}
    rates = [rate for _, n, rate in rows if n]
    assert rates and all(0.0 <= rate <= 1.0 for rate in rates)
    assert sum(n for _, n, _ in rows) == received


def test_reorder_points_and_forecasts_are_non_negative(daily_cycle: Cycle) -> None:
    assert daily_cycle.gold("SELECT min(reorder_point), min(safety_stock) FROM analytics.reorder_points")[0][0] >= 0
    assert daily_cycle.gold("SELECT min(forecast) FROM analytics.forecasts")[0][0] >= 0


def test_materials_below_reorder_point_are_alerted(daily_cycle: Cycle) -> None:
    # alerts follow the project's policy; reorder_points also holds the design's baseline per material
    rows = daily_cycle.gold(
        "SELECT a.severity, sign(r.stock_position - r.reorder_point) FROM analytics.alerts a"
        " JOIN analytics.reorder_points r USING (cycle_date, material_id) WHERE r.policy = 'project'",
    )
    below = [severity for severity, side in rows if side < 0]
    assert below, "the sample should put some materials below their reorder point"
    assert set(below) <= {"CRÍTICO", "ALTO"}
    assert {severity for severity, side in rows if side > 0} <= {"MÉDIO", "OK"}
    policies = daily_cycle.gold("SELECT DISTINCT policy FROM analytics.reorder_points ORDER BY policy")
    assert policies == [("baseline_design",), ("project",)]


def test_policy_backtest_report_and_delivery_log(daily_cycle: Cycle) -> None:
    segments = daily_cycle.gold("SELECT policy, segment FROM analytics.policy_backtest WHERE segment = 'all'")
    assert sorted(segments) == [("baseline_design", "all"), ("project", "all")]
    assert list((Path(daily_cycle.settings["NOVA_LAKE_DIR"]) / "reports").glob("relatorio_estoque_*.pdf"))
    # no SMTP or WhatsApp credentials in the test settings: both channels skipped with a note, no crash
    skipped = daily_cycle.gold("SELECT channel FROM support.delivery_log WHERE status = 'skipped' ORDER BY channel")
    assert skipped == [("email",), ("whatsapp",)]


def test_mlflow_has_a_run_per_family_and_the_ensemble(daily_cycle: Cycle) -> None:
    client = MlflowClient(tracking_uri=daily_cycle.settings["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("nova-corrente-forecast")
    runs = client.search_runs([experiment.experiment_id])
    run_id = daily_cycle.result.run_id
    ours = [r for r in runs if r.data.tags.get("dagster.run_id") == run_id]
    families = {r.data.tags["nova.family"] for r in ours if "nova.family" in r.data.tags}
    assert families == set(FAMILIES) | {"ensemble"}
    assert [r.data.tags.get("nova.model") for r in ours if "nova.family" not in r.data.tags] == ["failure_model"]
    assert {r.data.tags["dagster.partition"] for r in ours} == {daily_cycle.partition}
    (data,) = {r.data.tags["nova.data"] for r in ours}  # the cycle runs on the generated sample
    assert re.fullmatch(r"SYNTHETIC sample: the tables are built from \d+ ERP files, all generated", data), data
    intermittent = next(r for r in ours if r.data.tags.get("nova.family") == "intermittent")
    artifacts = {a.path for a in client.list_artifacts(intermittent.info.run_id)}
    assert {"forecast_vs_actual.png", "backtest_by_model.csv"} <= artifacts
    ensemble = next(r for r in runs if r.data.tags.get("nova.family") == "ensemble")
    assert ensemble.data.metrics["rmsse"] > 0
    # one column sorts every run, and the ensemble's run holds the figures the gold layer shows
    assert all("backtest.rmsse" in r.data.metrics for r in ours if "nova.family" in r.data.tags)
    assert ensemble.data.metrics["backtest.rmsse"] == ensemble.data.metrics["rmsse"]
    gold = daily_cycle.gold(
        "SELECT model, rmsse, n_series FROM analytics.model_performance WHERE cycle_date ="
        " (SELECT max(cycle_date) FROM analytics.model_performance) AND rmsse IS NOT NULL"
    )
    assert gold and all(
        abs(ensemble.data.metrics[f"{model}.rmsse"] - rmsse) < 1e-9
        and ensemble.data.metrics[f"{model}.n_series"] == n_series
        for model, rmsse, n_series in gold
    )
    assert intermittent.data.metrics["TSB.n_series"] > 0  # what each model was scored on, beside the history's
    by_class: dict[str, float] = {}
    for key, value in ensemble.data.params.items():
        if key.startswith("weight."):  # weight.<demand class>.<model>
            assert float(value) >= 0
            demand_class = key.split(".")[1]
            by_class[demand_class] = by_class.get(demand_class, 0.0) + float(value)
    assert by_class and all(abs(total - 1) < 1e-5 for total in by_class.values()), by_class


def test_gold_says_what_the_cycles_rows_are_built_from(daily_cycle: Cycle) -> None:
    """The label the dashboard and /health read, loaded by the cycle with its rows (the same as MLflow's)."""
    ((files, sample, unrecorded, landing_is_sample, description),) = daily_cycle.gold(
        "SELECT erp_files, erp_sample_files, erp_unrecorded_files, landing_is_sample, description"
        " FROM analytics.data_provenance WHERE cycle_date = %s",
        (daily_cycle.partition,),
    )
    assert files == sample > 0 and unrecorded == 0 and landing_is_sample
    assert description == f"SYNTHETIC sample: the tables are built from {files} ERP files, all generated"


def test_gold_reload_is_idempotent(daily_cycle: Cycle) -> None:
    before = daily_cycle.gold(
        "SELECT (SELECT count(*) FROM analytics.forecasts), (SELECT count(*) FROM analytics.alerts)"
    )
    gold_keys = [k for k in daily_cycle.definitions.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "gold"]
    daily_cycle.rerun(gold_keys)
    after = daily_cycle.gold(
        "SELECT (SELECT count(*) FROM analytics.forecasts), (SELECT count(*) FROM analytics.alerts)"
    )
    assert after == before
    alerts = pd.DataFrame(daily_cycle.gold("SELECT cycle_date, material_id FROM analytics.alerts"))
    assert not alerts.duplicated().any()


def test_per_series_families_fan_out_by_material_group(daily_cycle: Cycle) -> None:
    from nova_assets.defs.forecast.families import material_groups
    from nova_assets.lib.lake_tables import family_forecast, family_group_tables
    from nova_assets.resources import LakeResource

    n_groups = material_groups()
    steps = {e.step_key for e in daily_cycle.result.all_events if e.event_type_value == "STEP_SUCCESS"}
    lake = LakeResource(lake_dir=daily_cycle.settings["NOVA_LAKE_DIR"])
    for family in (f for f in FAMILIES.values() if f.fans_out):
        group_steps = {f"forecast__forecast_{family.name}.{family.name}_group_{g}" for g in range(n_groups)}
        assert group_steps <= steps, sorted(steps)
        assert f"forecast__forecast_{family.name}.{family.name}_collect" in steps
        groups = [family_group_tables(family.name, g)[0] for g in range(n_groups)]
        series = [set(lake.read(group)["unique_id"]) for group in groups]
        assert sum(len(s) for s in series) == len(set.union(*series)), "a material forecast in two groups"
        assert set.union(*series) == set(lake.read(family_forecast(family.name))["unique_id"])
    assert "forecast__forecast_gradient_boosting" in steps  # the global models stay one step


def test_maintenance_reaches_gold_from_the_sample_work_orders(daily_cycle: Cycle) -> None:
    """The sample's installed base and work orders are imported, the failure model is fitted on them
    (CYCLE_YEARS hold enough failures of two types), and the failure clusters, the failure forecast
    and the obsolescence KPI reach gold; the causal member forecasts the parts the orders use."""
    clusters = daily_cycle.gold("SELECT count(*) FROM analytics.equipment_failure_clusters")[0][0]
    towers = daily_cycle.gold("SELECT count(*) FROM core.sites WHERE site_type = 'tower'")[0][0]
    assert clusters >= towers > 0  # a row per tower and equipment type
    assert daily_cycle.gold("SELECT sum(units) FROM analytics.equipment_failure_clusters")[0][0] > 0
    assert daily_cycle.gold("SELECT sum(failures) FROM analytics.equipment_failure_clusters")[0][0] > 0
    assert len(daily_cycle.gold("SELECT * FROM analytics.obsolescence_kpi")) == 1
    events = {e.asset_key.to_user_string(): e for e in daily_cycle.result.get_asset_materialization_events()}
    model = events["maintenance/failure_model"].materialization.metadata
    assert model["fitted"].value is True, model.get("reason")
    assert model["expected_failures_next_months"].value > 0
    forecast = daily_cycle.gold(
        "SELECT count(DISTINCT equipment_type), count(DISTINCT site_id), sum(expected) FROM analytics.failure_forecast"
    )[0]
    assert forecast[0] >= 1 and forecast[1] >= 1 and forecast[2] > 0
    member = events["forecast/forecast_installed_base"].materialization.metadata
    assert member["forecast_rows"].value > 0 and "not_applicable" not in member


def test_superseded_parts_are_planned_and_alerted_as_their_successor(daily_cycle: Cycle) -> None:
    """The sample's materials.csv supersedes parts: the successor carries the predecessor's history
    (forecast), reorder point and alert; the predecessor has none (the pooled position is
    tested in test_maintenance_lifecycle)."""
    pairs = daily_cycle.gold("SELECT material_id, supersedes FROM core.materials WHERE supersedes IS NOT NULL")
    assert pairs, "the sample supersedes some parts"
    for new, old in pairs:
        planned = daily_cycle.gold("SELECT count(*) FROM analytics.alerts WHERE material_id = %s", (old,))[0][0]
        assert planned == 0, old
        assert daily_cycle.gold("SELECT count(*) FROM analytics.alerts WHERE material_id = %s", (new,))[0][0] > 0


def test_the_demo_is_not_stale_on_its_own_as_of_date(daily_cycle: Cycle) -> None:
    # offline, the as-of date is the snapshots' day: PTAX's last business day before it is within its
    # own rule (5 days), so no alert may carry the stale warning (it did under one flat 3-day rule)
    assert daily_cycle.gold("SELECT bool_or(is_stale), max(stale_warning) FROM analytics.alerts") == [(False, "")]


def test_dbt_keeps_only_the_last_invocations_artifacts(daily_cycle: Cycle) -> None:
    """Each cycle's dbt steps leave a target folder of their own; old ones are removed, not kept for ever."""
    for project, op in ((features_project, "dbt_features"), (gold_project, "gold_marts")):
        folders = [p for p in (Path(project.project_dir) / "target").glob(f"{op}-*-*") if p.is_dir()]
        assert 1 <= len(folders) <= RUN_TARGETS_KEPT, (op, len(folders))


def test_the_layers_metadata_says_the_data_is_synthetic(daily_cycle: Cycle) -> None:
    """The Dagster UI shows it on the ERP tables, the forecast, the stock policy and its alerts, as the README says."""
    data = {
        e.asset_key.to_user_string(): e.materialization.metadata["data"].value
        for e in daily_cycle.result.get_asset_materialization_events()
        if "data" in e.materialization.metadata
    }
    for key in ("raw/erp_movements", "forecast/forecast_ensemble", "inventory/reorder_points", "inventory/alerts"):
        assert data.get(key, "").startswith("SYNTHETIC sample"), (key, data.get(key))
