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
    fixtures are built once), with CYCLE_MODULES as one unit."""
    from xdist.scheduler import LoadScopeScheduling

    class CycleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "daily_cycle" if nodeid.startswith(CYCLE_MODULES) else super()._split_scope(nodeid)

    return CycleScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test of the daily cycle outside CYCLE_MODULES would build the cycle again in another worker."""
    strays = [i.nodeid for i in items if "daily_cycle" in i.fixturenames and not i.nodeid.startswith(CYCLE_MODULES)]
    if strays:
        raise pytest.UsageError(f"add the module to CYCLE_MODULES in tests/conftest.py: {strays[0]} reads daily_cycle")
