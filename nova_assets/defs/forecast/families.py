"""One asset per model family: backtest, fit on all history, forecast, log to MLflow.

The families that fit each series on its own (ModelFamily.fans_out) are graph-backed assets: one
step per material group (a hash bucket of materials, lib/forecasting/material_groups), run in
parallel by the multiprocess executor here and as separate pods by the k8s executor, then one step
that collects the groups and logs the family's MLflow run. The global models stay one step each.

A family keeps its backtest for NOVA_BACKTEST_EVERY_DAYS days (demand_history.backtest_through): each step
reads its own stored backtest and state and, while they match the cycle's backtest day and settings,
refits only on all history; on the next backtest day it fits only the windows the stored backtest does
not hold, starting from the model forms the last one selected (pipeline.run_family).
"""

from datetime import date

import dagster as dg
import pandas as pd

from nova_assets.defs.critical_path import CRITICAL_PATH_TAGS
from nova_assets.defs.history import HISTORY_TABLES, load_cycle_date, load_history
from nova_assets.lib.demand_history import backtest_through
from nova_assets.lib.demand_history import cycle_date as last_day
from nova_assets.lib.forecasting.installed_base import MaintenanceInputs
from nova_assets.lib.forecasting.material_groups import group_max_series, in_group, merge_group_runs
from nova_assets.lib.forecasting.metrics import score_windows, summarise
from nova_assets.lib.forecasting.models import (
    EXPENSIVE_MAX_SERIES,
    FAMILIES,
    ZERO_MODEL,
    ModelFamily,
    with_maintenance,
)
from nova_assets.lib.forecasting.panel import DEFAULT_SEASON
from nova_assets.lib.forecasting.pipeline import (
    FamilyRun,
    StoredBacktest,
    backtest_key,
    carry_forms,
    continues,
    run_family,
    window_step,
)
from nova_assets.lib.forecasting.serving import FamilyModel, FamilySettings
from nova_assets.lib.forecasting.tracking import RunRecord, forecast_vs_actual, log_run, registered_model_name
from nova_assets.lib.lake_tables import (
    ERP_INSTALLED_BASE,
    ERP_WORK_ORDER_PARTS,
    ERP_WORK_ORDERS,
    WEATHER_DAILY,
    LakeTable,
    family_backtest,
    family_forecast,
    family_group_tables,
    family_state,
)
from nova_assets.resources import CycleConfig, LakeResource, MlflowResource, lake_deps
from nova_assets.settings import load_settings

CYCLE_FREQ = "D"  # the cycle forecasts the daily demand table
SEASON = DEFAULT_SEASON[CYCLE_FREQ]
N_JOBS = 2
# A global family uses both cores (OpenMP/BLAS threads): one at a time, or two fight over two cores
# and both run several times slower. A material group uses one core, so two groups run side by side.
POOL = "forecast"
GROUP_N_JOBS = 1
FAMILY_SCORE = "backtest.rmsse"  # the family's best model: what its registered model's champion is chosen on
# What the families that bind plant maintenance read besides the demand history (ModelFamily.binds_maintenance)
MAINTENANCE_INPUTS = (ERP_INSTALLED_BASE, ERP_WORK_ORDERS, ERP_WORK_ORDER_PARTS, WEATHER_DAILY)


def cycle_backtest_day(cycle: CycleConfig, history: pd.DataFrame) -> date:
    """The day this cycle's backtests end (demand_history.backtest_through)."""
    return backtest_through(last_day(history["ds"]), cycle.backtest_every_days)


def _stored_backtest(
    lake: LakeResource, cycle: CycleConfig, state: LakeTable, backtest: LakeTable, key: dict
) -> StoredBacktest | None:
    """The backtest a step wrote in an earlier cycle with the settings of `key` (pipeline.backtest_key) and
    a backtest day not after the cycle's: kept whole on the same day, else in part (pipeline.run_family),
    its model forms carried over (pipeline.carry_forms)."""
    if not (lake.exists(state) and lake.exists(backtest)):
        return None
    saved = lake.read_json(state)
    if not continues(saved.get("backtest", {}), key):
        return None
    made_through, through = (date.fromisoformat(k["through"]) for k in (saved["backtest"], key))
    forms = saved.get("forms", {})
    return StoredBacktest(
        lake.read(backtest),
        saved["memo"],
        forms if made_through == through else carry_forms(forms, through, cycle.backtest_every_days),
        date.fromisoformat(saved["forms_through"]) if saved.get("forms_through") else None,
        made_through,
    )


def _state(run: FamilyRun, key: dict) -> dict:
    """What a family step keeps beside its backtest: the backtest's key, the model forms (all, and those
    a next backtest may start from), and for the collect step its seconds and what it kept or fitted."""
    return {
        "backtest": key,
        "memo": run.memo,
        "forms": run.forms,
        "forms_through": str(run.forms_through) if run.forms_through else None,
        "seconds": run.seconds,
        "reused": run.backtest_reused,
        "windows_fitted": run.windows_fitted,
    }


def material_groups() -> int:
    """How many material groups the fanned-out families split into: NOVA_MATERIAL_GROUPS.

    Read when the code location loads, because it shapes the graph: set it to the number of pods a
    production cycle should spread each family over."""
    return load_settings().material_groups


def _publish(
    context: dg.OpExecutionContext,
    lake: LakeResource,
    mlflow: MlflowResource,
    cycle: CycleConfig,
    history: pd.DataFrame,
    run: FamilyRun,
    n_groups: int,
    maintenance: MaintenanceInputs | None = None,
) -> dict:
    """Write the family's forecast and backtest, log its MLflow run; the materialization's metadata."""
    backtest, forecast = run.backtest, run.forecast
    scores = score_windows(history, backtest, SEASON)
    per_model = summarise(scores, ["model"])
    lake.write(family_forecast(run.family), forecast)
    if not run.backtest_reused:  # a kept backtest is in the lake as it was read
        lake.write(family_backtest(run.family), backtest)

    cycle_date = last_day(history["ds"])
    n_series = history["unique_id"].nunique()
    metrics = {
        f"{row.model}.{m}": getattr(row, m)
        for row in per_model.itertuples()
        for m in ("mase", "rmsse", "bias", "total_demand_error", "n_series")  # n_series: the series scored
    }
    own = per_model[per_model["model"] != ZERO_MODEL]
    metrics[FAMILY_SCORE] = float(own["rmsse"].min()) if own["rmsse"].notna().any() else float("nan")
    record = RunRecord(
        run_name=f"{run.family} {cycle_date}",
        params={
            "family": run.family,
            "models": ",".join(sorted(forecast["model"].unique())),
            "horizon_days": cycle.horizon,
            "season": SEASON,
            "backtest_windows": backtest["cutoff"].nunique(),
            "backtest_reused": run.backtest_reused,
            "backtest_windows_fitted": run.windows_fitted,
            "n_series": n_series,  # in the history; each model's scored series are its `<model>.n_series`
            "material_groups": n_groups,
            "cycle_date": cycle_date,
        },
        metrics=metrics,
        tables={"backtest_by_model": per_model, "backtest_by_item": scores},
        figures={"forecast_vs_actual": forecast_vs_actual(backtest)},
        tags={
            "dagster.run_id": context.run_id,
            "nova.family": run.family,
            "dagster.partition": context.run.tags.get("dagster/partition", ""),
            "nova.cycle_date": str(cycle_date),
            "nova.data": lake.erp_provenance().describe(),
        },
        model=FamilyModel(
            FamilySettings(run.family, cycle.horizon, SEASON, freq=CYCLE_FREQ, n_jobs=N_JOBS), run.memo, maintenance
        ),
        registered_name=registered_model_name(run.family),
        score=(FAMILY_SCORE, metrics[FAMILY_SCORE]),
    )
    experiment_id, run_id, model_uri = log_run(mlflow.tracking_uri, mlflow.experiment, mlflow.artifact_root, record)
    return {
        "cycle_date": str(cycle_date),
        "n_series": n_series,
        "forecast_rows": len(forecast),
        "seconds": round(run.seconds, 1),
        "backtest_reused": run.backtest_reused,
        "backtest_windows_fitted": run.windows_fitted,
        "backtest": dg.MetadataValue.md(per_model.round(3).to_markdown(index=False)),
        "mlflow_run": dg.MetadataValue.url(mlflow.run_url(experiment_id, run_id)),
        "mlflow_run_id": run_id,
        "mlflow_model_uri": model_uri,
        "champion": record.champion.describe() if record.champion else "",
    }


def _asset_settings(family: ModelFamily) -> dict:
    return {
        "name": f"forecast_{family.name}",
        "key_prefix": "forecast",
        "kinds": {"python", "mlflow"},
        "description": f"{family.description}. Rolling-origin backtest (kept NOVA_BACKTEST_EVERY_DAYS days), "
        "then a forecast from all history.",
    }


def load_maintenance_inputs(lake: LakeResource) -> MaintenanceInputs:
    """The maintenance tables as the ERP import wrote them (empty without plant maintenance exports);
    the reading asset depends on lake_deps(*MAINTENANCE_INPUTS)."""
    return MaintenanceInputs(*(lake.read(table) for table in MAINTENANCE_INPUTS))


def _family_asset(family: ModelFamily) -> dg.AssetsDefinition:
    reads_maintenance = family.binds_maintenance is not None
    inputs = MAINTENANCE_INPUTS if reads_maintenance else ()

    @dg.asset(
        deps=lake_deps(*HISTORY_TABLES, *inputs), pool=POOL, op_tags=CRITICAL_PATH_TAGS, **_asset_settings(family)
    )
    def _asset(
        context: dg.AssetExecutionContext, lake: LakeResource, mlflow: MlflowResource, cycle: CycleConfig
    ) -> dg.MaterializeResult:
        history = load_history(lake)
        maintenance = load_maintenance_inputs(lake) if reads_maintenance else None
        bound = family if maintenance is None else with_maintenance(family, maintenance)
        through = cycle_backtest_day(cycle, history)
        step = window_step(cycle.horizon, cycle.backtest_every_days)
        key = backtest_key(through, cycle.horizon, SEASON, CYCLE_FREQ, EXPENSIVE_MAX_SERIES, step)
        state = family_state(family.name)
        run = run_family(
            history,
            bound,
            cycle.horizon,
            SEASON,
            n_jobs=N_JOBS,
            freq=CYCLE_FREQ,
            through=through,
            stored=_stored_backtest(lake, cycle, state, family_backtest(family.name), key),
            step=step,
        )
        metadata = _publish(context.op_execution_context, lake, mlflow, cycle, history, run, 1, maintenance)
        lake.write_json(state, _state(run, key))
        if maintenance is not None and run.forecast.empty:
            metadata["not_applicable"] = "no installed base, work orders or enough failures to forecast parts from"
        return dg.MaterializeResult(metadata=metadata)

    return _asset


def _part(family: str, group: int) -> str:
    return f"{family}_group_{group}"


def _group_op(family: ModelFamily, group: int, n_groups: int) -> dg.OpDefinition:
    @dg.op(
        name=_part(family.name, group),
        ins={"demand": dg.In(dg.Nothing), "materials": dg.In(dg.Nothing)},
        out=dg.Out(dg.Nothing),
        tags={**CRITICAL_PATH_TAGS, "nova/material_group": str(group)},
        description=f"{family.name} on material group {group} of {n_groups}: backtest and forecast.",
    )
    def _op(context: dg.OpExecutionContext, lake: LakeResource, cycle: CycleConfig) -> None:
        history = load_history(lake, in_group(group, n_groups))
        max_series = group_max_series(EXPENSIVE_MAX_SERIES, n_groups)
        through = backtest_through(load_cycle_date(lake), cycle.backtest_every_days)
        step = window_step(cycle.horizon, cycle.backtest_every_days)
        key = backtest_key(through, cycle.horizon, SEASON, CYCLE_FREQ, max_series, step)
        forecast, backtest, state = family_group_tables(family.name, group)
        run = run_family(
            history,
            family,
            cycle.horizon,
            SEASON,
            n_jobs=GROUP_N_JOBS,
            freq=CYCLE_FREQ,
            max_series=max_series,
            through=through,
            stored=_stored_backtest(lake, cycle, state, backtest, key),
            step=step,
        )
        lake.write(forecast, run.forecast)
        if not run.backtest_reused:  # a kept backtest is in the lake as it was read
            lake.write(backtest, run.backtest)
        lake.write_json(state, _state(run, key))
        fitted = f"{run.windows_fitted} backtest window{'' if run.windows_fitted == 1 else 's'} fitted"
        reused = f" (backtest of {through} reused)" if run.backtest_reused else f" ({fitted})"
        context.log.info(f"{forecast.name}: {history['unique_id'].nunique()} series in {run.seconds:.1f} s{reused}")

    return _op


def _read_group_run(lake: LakeResource, family: str, group: int) -> FamilyRun:
    forecast, backtest, memo = family_group_tables(family, group)
    state = lake.read_json(memo)
    return FamilyRun(
        family,
        lake.read(backtest),
        lake.read(forecast),
        state["seconds"],
        state["memo"],
        state.get("reused", False),
        windows_fitted=state.get("windows_fitted", 0),
    )


def _collect_op(family: ModelFamily, n_groups: int) -> dg.OpDefinition:
    @dg.op(
        name=f"{family.name}_collect",
        ins={f"group_{g}": dg.In(dg.Nothing) for g in range(n_groups)},
        out=dg.Out(dg.Nothing),
        tags=CRITICAL_PATH_TAGS,
        description=f"{family.name}: the {n_groups} material groups as one forecast, scored and logged to MLflow.",
    )
    def _op(context: dg.OpExecutionContext, lake: LakeResource, mlflow: MlflowResource, cycle: CycleConfig):
        run = merge_group_runs([_read_group_run(lake, family.name, g) for g in range(n_groups)])
        return dg.Output(None, metadata=_publish(context, lake, mlflow, cycle, load_history(lake), run, n_groups))

    return _op


def _grouped_family_asset(family: ModelFamily, n_groups: int) -> dg.AssetsDefinition:
    groups = [_group_op(family, g, n_groups) for g in range(n_groups)]
    collect = _collect_op(family, n_groups)

    demand_key, materials_key = lake_deps(*HISTORY_TABLES)
    ins = {
        "demand": dg.AssetIn(key=demand_key, dagster_type=dg.Nothing),
        "materials": dg.AssetIn(key=materials_key, dagster_type=dg.Nothing),
    }

    @dg.graph_asset(ins=ins, **_asset_settings(family))
    def _asset(demand, materials):
        return collect(**{f"group_{g}": op(demand=demand, materials=materials) for g, op in enumerate(groups)})

    return _asset


@dg.definitions
def defs() -> dg.Definitions:
    n_groups = material_groups()
    return dg.Definitions(
        assets=[_grouped_family_asset(f, n_groups) if f.fans_out else _family_asset(f) for f in FAMILIES.values()]
    )


def family_keys() -> list[dg.AssetKey]:
    """The family assets, writers of the family forecast and backtest tables."""
    return lake_deps(*(family_forecast(name) for name in FAMILIES))


def read_backtests(lake: LakeResource) -> pd.DataFrame:
    """Every family's backtest; the reading asset depends on family_keys()."""
    return pd.concat([lake.read(family_backtest(name)).assign(family=name) for name in FAMILIES], ignore_index=True)


def read_forecasts(lake: LakeResource) -> pd.DataFrame:
    """Every family's forecast; the reading asset depends on family_keys()."""
    return pd.concat([lake.read(family_forecast(name)).assign(family=name) for name in FAMILIES], ignore_index=True)
