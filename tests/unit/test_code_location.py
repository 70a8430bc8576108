"""The code location as Dagster loads it: every asset, check, job, schedule and sensor, compared with a
checked-in snapshot, so a definition that silently falls out (or appears) fails the suite.

A deliberate change to the graph is recorded by regenerating the snapshot and reviewing its diff:

    .venv/bin/python -m tests.unit.test_code_location --update
"""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

import nova_assets.defs

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).parent / "snapshots" / "code_location.json"
# settings that shape the graph, at their embedded defaults (the snapshot must not depend on the shell)
GRAPH_SETTINGS = ("NOVA_MATERIAL_GROUPS", "NOVA_EXECUTOR")


def load_code_location() -> dg.RepositoryDefinition:
    """The repository the code server builds: pyproject's module, loaded through Dagster's own loader."""
    return ReconstructableRepository.for_module(
        "nova_assets.definitions", "defs", working_directory=str(ROOT)
    ).get_definition()


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> str | None:
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return f"{type(partitions_def).__name__} {partitions_def.cron_schedule} {partitions_def.timezone}"
    return type(partitions_def).__name__


def snapshot(repo: dg.RepositoryDefinition) -> dict[str, Any]:
    graph = repo.asset_graph
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
            "materializable": node.is_materializable,
        }
    checks = sorted(f"{check.asset_key.to_user_string()}:{check.name}" for check in graph.asset_check_keys)
    jobs = {
        job.name: {"partitions": _partitions(job.partitions_def)}
        for job in sorted(repo.get_all_jobs(), key=lambda j: j.name)
        if not job.name.startswith("__")  # Dagster's implicit asset jobs
    }
    schedules = {
        s.name: {
            "cron": s.cron_schedule,
            "timezone": s.execution_timezone,
            "default_status": s.default_status.value,
            "job": s.job_name,
        }
        for s in sorted(repo.schedule_defs, key=lambda s: s.name)
    }
    sensors = {
        s.name: {
            "type": s.sensor_type.value,
            "default_status": s.default_status.value,
            "minimum_interval_seconds": s.minimum_interval_seconds,
            "jobs": sorted(target.job_name for target in s.targets) if s.has_jobs else [],
        }
        for s in sorted(repo.sensor_defs, key=lambda s: s.name)
    }
    return {"assets": assets, "asset_checks": checks, "jobs": jobs, "schedules": schedules, "sensors": sensors}


@pytest.fixture(scope="module")
def loaded() -> dict[str, Any]:
    saved = {name: os.environ.pop(name, None) for name in GRAPH_SETTINGS}
    try:
        return snapshot(load_code_location())
    finally:
        os.environ.update({name: value for name, value in saved.items() if value is not None})


def test_code_location_matches_the_snapshot(loaded: dict[str, Any]) -> None:
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    for part in ("sensors", "schedules", "jobs", "asset_checks", "assets"):
        assert loaded[part] == expected[part], (
            f"the code location's {part} differ from {SNAPSHOT.relative_to(ROOT)}; if the change is meant, "
            "run `.venv/bin/python -m tests.unit.test_code_location --update` and review the diff"
        )


def test_the_promised_sensors_and_schedules_are_loaded_and_running(loaded: dict[str, Any]) -> None:
    """The README's automation: midnight cycle, hourly delivery retry, ERP-drop sensor, failure e-mail."""
    assert loaded["sensors"]["erp_landing_sensor"]["jobs"] == ["daily_cycle"]
    assert loaded["sensors"]["run_failure_alert"]["type"] == "RUN_STATUS"
    assert loaded["schedules"]["daily_cycle_at_midnight"]["timezone"] == "America/Bahia"
    for automation in (*loaded["sensors"].values(), *loaded["schedules"].values()):
        assert automation["default_status"] == "RUNNING"


def test_both_dbt_layers_run_the_projects_dbt_resource() -> None:
    """The feature store's and the gold marts' steps use dbt_projects' resource, which does not start
    `dbt --version` before every step (tests/unit/test_dbt_projects.py)."""
    from dagster_dbt import DbtCliResource

    from nova_assets.dbt_projects import ProjectDbtResource
    from nova_assets.definitions import defs

    resources = defs().resources
    dbt = {name: type(r) for name, r in resources.items() if isinstance(r, DbtCliResource)}
    assert dbt == {"dbt": ProjectDbtResource, "dbt_gold": ProjectDbtResource}


def test_every_asset_schedule_and_sensor_says_what_it_is_in_the_ui() -> None:
    repo = load_code_location()
    graph = repo.asset_graph
    undescribed = [key.to_user_string() for key in graph.get_all_asset_keys() if not graph.get(key).description]
    undescribed += [d.name for d in [*repo.schedule_defs, *repo.sensor_defs] if not d.description]
    assert undescribed == []


def test_the_architecture_page_counts_the_assets_it_shows(loaded: dict[str, Any]) -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert f"({len(loaded['assets'])} in all)" in page


def _is_definitions_function(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef) and any(
        ast.unparse(decorator) in {"dg.definitions", "definitions"} for decorator in node.decorator_list
    )


def _defined_names(tree: ast.Module) -> list[str]:
    """Names a module defines itself (functions, classes, assignments), not the ones it imports."""
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [target.id for target in targets if isinstance(target, ast.Name)]
    return names


def test_no_defs_module_hides_definitions_behind_a_definitions_function() -> None:
    """Dagster takes only the `@dg.definitions` function of a module that has one: every other asset,
    job, schedule or sensor defined at module level there is silently dropped."""
    hidden = []
    for path in sorted(Path(nova_assets.defs.__file__).parent.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not any(_is_definitions_function(node) for node in tree.body):
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        __import__(module)
        objects = vars(sys.modules[module])
        hidden += [
            f"{module}.{name}"
            for name in _defined_names(tree)
            if isinstance(
                objects.get(name),
                dg.AssetsDefinition
                | dg.AssetChecksDefinition
                | dg.AssetSpec
                | dg.JobDefinition
                | UnresolvedAssetJobDefinition
                | dg.ScheduleDefinition
                | dg.SensorDefinition,
            )
        ]
    assert not hidden, f"defined beside a @dg.definitions function, hence not loaded: {hidden}"


def main() -> None:
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: {sys.executable} -m tests.unit.test_code_location --update")
    for name in GRAPH_SETTINGS:
        os.environ.pop(name, None)
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(
        json.dumps(snapshot(load_code_location()), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"wrote {SNAPSHOT}")


if __name__ == "__main__":
    main()


def test_every_step_between_the_demand_facts_and_the_alerts_goes_first() -> None:
    """The executor starts higher-priority steps first: a step the alerts wait for without the
    critical-path priority waits behind every forecast step (the policy backtest once did)."""
    from nova_assets.definitions import defs
    from nova_assets.defs.critical_path import CRITICAL_PATH_TAGS
    from nova_assets.lib.lake_tables import DAILY_DEMAND

    graph = defs().resolve_asset_graph()
    alerts, demand = dg.AssetKey(["inventory", "alerts"]), dg.AssetKey(list(DAILY_DEMAND.asset))
    upstream = graph.get_ancestor_asset_keys
    between = {key for key in upstream(alerts) if demand in upstream(key)}
    between.add(alerts)
    assert dg.AssetKey(["inventory", "policy_backtest"]) in between
    slow = []
    for key in sorted(between, key=lambda k: k.to_user_string()):
        node = graph.assets_def_for_key(key).node_def
        ops = node.iterate_op_defs() if isinstance(node, dg.GraphDefinition) else [node]
        slow += [f"{key.to_user_string()} ({op.name})" for op in ops if int(op.tags.get("dagster/priority", 0)) < 1]
    assert CRITICAL_PATH_TAGS == {"dagster/priority": "1"}
    assert not slow, slow


def test_the_policy_backtest_starts_before_the_forecast_steps() -> None:
    """It needs only the demand facts and takes minutes on a backtest day: after the forecast steps it
    would hold up the reorder points; started first, it runs beside them."""
    from nova_assets.definitions import defs

    graph = defs().resolve_asset_graph()
    priority = int(graph.assets_def_for_key(dg.AssetKey(["inventory", "policy_backtest"])).op.tags["dagster/priority"])
    forecasts = [key for key in graph.get_all_asset_keys() if key.path[0] == "forecast"]
    assert forecasts
    for key in forecasts:
        node = graph.assets_def_for_key(key).node_def
        ops = node.iterate_op_defs() if isinstance(node, dg.GraphDefinition) else [node]
        assert all(int(op.tags.get("dagster/priority", 0)) < priority for op in ops), key
