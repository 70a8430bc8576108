"""The daily cycle: one job over the whole graph, scheduled at midnight in Salvador.

The daily sources (weather, SELIC, PTAX) and the dbt assets are daily-partitioned
(nova_assets/defs/partitions.py); the other assets are not partitioned and run in the same job. A
run therefore needs a partition key, the day whose data the sources fetch and the dbt models
(re)write, e.g. `dagster job execute -m nova_assets.definitions -j daily_cycle
--tags '{"dagster/partition": "2025-11-09"}'`. The schedule fires at 00:00 America/Bahia and runs
the partition of the day that just ended.
"""

import pkgutil

import dagster as dg

import nova_assets.defs
from nova_assets.defs.partitions import daily_partitions
from nova_assets.settings import load_settings


def cycle_executor(executor: str) -> dg.ExecutorDefinition:
    """How the cycle's steps run: NOVA_EXECUTOR (multiprocess here; k8s in the Helm deployment, deploy/).

    multiprocess: parallel processes forked by a forkserver that has imported every module of the
    code location once (`code_location_modules`) and built its definitions (forkserver_preload), so a
    step neither imports dbt, MLflow and the model libraries again (measured: docs/benchmarks.md) nor
    builds the definitions cold.
    k8s: every step in its own Kubernetes job (dagster-k8s, installed in the deployment image only).
    """
    if executor == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    if executor != "multiprocess":
        raise ValueError(f"NOVA_EXECUTOR must be multiprocess or k8s, not {executor!r}")
    preload = forkserver_preload_modules()
    return dg.multiprocess_executor.configured({"start_method": {"forkserver": {"preload_modules": preload}}})


def forkserver_preload_modules() -> list[str]:
    """What the multiprocess executor's forkserver imports before it forks a step: the code location,
    then nova_assets.forkserver_preload, which builds the definitions once."""
    return [*code_location_modules(), "nova_assets.forkserver_preload"]


def code_location_modules() -> list[str]:
    """The code location's module and every module of its defs folder (imported lazily by
    `load_from_defs_folder`, hence not by importing the code location's module alone)."""
    package = nova_assets.defs
    submodules = pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
    return ["nova_assets.definitions", *sorted(module.name for module in submodules)]


daily_cycle = dg.define_asset_job(
    "daily_cycle",
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    description="Raw sources -> dbt features (partition's days) -> forecasts -> ensemble -> reorder points -> alerts"
    " -> gold. Needs a partition key (a day, YYYY-MM-DD).",
    tags={"nova/cycle": "daily"},
    executor_def=cycle_executor(load_settings().executor),
)

daily_cycle_schedule = dg.build_schedule_from_partitioned_job(
    daily_cycle,
    name="daily_cycle_at_midnight",
    description="The daily cycle at 00:00 America/Bahia, for the day that just ended (runs while the Dagster"
    " daemon runs, e.g. under `make ui`).",
    hour_of_day=0,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
