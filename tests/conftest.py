"""Fixtures shared by every test folder, and how `make test` splits the suite over pytest-xdist workers."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.http_server"]

# The session's daily cycle (tests/integration/conftest.py) takes minutes to build. The modules that
# read it, or a copy of it, run in one worker, so that it is built once.
CYCLE_MODULES = (
    "tests/integration/platform/",
    "tests/integration/test_daily_cycle.py",
    "tests/integration/test_gold_data_provenance.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """pytest-xdist's `loadscope` (a whole module to whichever worker is free, so its module-scoped
    fixtures are built once), with CYCLE_MODULES as one unit, in the collection's order (LONGEST_FIRST)
    rather than xdist's default of the most tests first."""
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False

    class CycleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "daily_cycle" if nodeid.startswith(CYCLE_MODULES) else super()._split_scope(nodeid)

    return CycleScheduling(config, log)


# The longest units of work, longest first (`pytest --durations=0`, 7 Dec 2026): scheduled before the
# rest, so that no worker starts one of them while the other has nothing left (longest-first balance).
# Only the order changes; a module missing here runs after them in its usual place.
LONGEST_FIRST = (
    *CYCLE_MODULES,
    "tests/integration/test_dbt_build.py",
    "tests/integration/test_faults_stale_source.py",
    "tests/integration/test_ingest_erp_guards.py",
    "tests/integration/test_forecast_backtest_cadence.py",
    "tests/integration/test_ingest_erp.py",
    "tests/integration/test_faults_concurrency.py",
    "tests/integration/test_maintenance_assets.py",
    "tests/unit/test_forecast_processes.py",
    "tests/unit/test_deploy_files.py",
    "tests/unit/test_backtest_cadence.py",
)


def _schedule_rank(item: pytest.Item) -> int:
    return next(
        (rank for rank, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST)
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test of the daily cycle outside CYCLE_MODULES would build the cycle again in another worker.
    The longest modules go first (a stable sort: each module's tests keep their order)."""
    strays = [i.nodeid for i in items if "daily_cycle" in i.fixturenames and not i.nodeid.startswith(CYCLE_MODULES)]
    if strays:
        raise pytest.UsageError(f"add the module to CYCLE_MODULES in tests/conftest.py: {strays[0]} reads daily_cycle")
    items.sort(key=_schedule_rank)
