"""A real PostgreSQL server for the tests: the project's own local cluster on its own port; and the
small in-process daily cycle, built once per session, that tests read (or change on a copy).

Set NOVA_TEST_POSTGRES_URL to use an existing server instead (a database the tests may wipe).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg
import pytest

from nova_assets.services.local_stack import PROJECT_ROOT, embedded_settings
from nova_assets.services.postgres_server import LocalCluster, ensure_running, stop

# pytest-xdist's worker ("gw0", "gw1", ...; "main" without it): each worker has its own test server,
# and its own databases on a server given by NOVA_TEST_POSTGRES_URL.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of the maintenance database of the test server (started here, stopped at the end)."""
    external = os.environ.get("NOVA_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    cluster = LocalCluster(data_dir=PROJECT_ROOT / "data" / "postgres-test" / _WORKER, port=_free_port())
    cluster.data_dir.parent.mkdir(parents=True, exist_ok=True)
    was_running = cluster.is_running()
    ensure_running(cluster, ())
    yield cluster.url("postgres")
    if not was_running:
        stop(cluster)


def fresh_database(server_url: str, name: str, template: str | None = None) -> str:
    """Drop and create database `name` on the test server (a copy of database `template` if given); return its URL.
    Under pytest-xdist the name gets the worker's suffix."""
    if _WORKER != "main":
        name = f"{name}_{_WORKER}"
    create = psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name))
    if template:
        create += psycopg.sql.SQL(" TEMPLATE {}").format(psycopg.sql.Identifier(template))
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))
        conn.execute(create)
    base, _ = server_url.rsplit("/", 1)
    return f"{base}/{name}"


@pytest.fixture
def gold_url(postgres_server: str) -> str:
    """An empty gold database for one test."""
    return fresh_database(postgres_server, "nova_gold_test")


def cycle_settings(
    root: Path, postgres_server: str, database: str, *, materials: int, sites: int, horizon: int, years: int = 1
) -> dict[str, str]:
    """Embedded settings of a synthetic business of `years` under `root`, with gold in a fresh database."""
    (root / "mlflow").mkdir()
    settings = embedded_settings(
        root=root,
        use_environment=False,
        overrides={
            "NOVA_SNAPSHOT_DIR": str(PROJECT_ROOT / "data" / "snapshots"),
            "NOVA_SAMPLE_MATERIALS": str(materials),
            "NOVA_SAMPLE_SITES": str(sites),
            "NOVA_SAMPLE_YEARS": str(years),
            "NOVA_FORECAST_HORIZON": str(horizon),
        },
    )
    settings["NOVA_POSTGRES_URL"] = fresh_database(postgres_server, database)
    return settings


def project_path(*parts: str) -> Path:
    return PROJECT_ROOT.joinpath(*parts)


CYCLE_MATERIALS = 24  # the session's daily_cycle
CYCLE_HORIZON = 14
CYCLE_SITES = 4  # a warehouse and 3 towers
# In two years the towers' installed base has MIN_FAILURES failures or more of two equipment types
# (seed 42: battery 6, cooling 5 of 23), so the cycle fits the failure model; one year had 8 in all
CYCLE_YEARS = 2


@contextmanager
def environment(settings: dict[str, str]) -> Iterator[None]:
    """A cycle's settings in os.environ while it loads or runs, and what was there before afterwards
    (later tests of the session must not see this cycle's folders)."""
    previous = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in previous.items():  # put back only what we set: imports may have extended PATH
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Cycle:
    """One in-process daily cycle: its folders and settings, code location, Dagster instance and run."""

    root: Path
    settings: dict[str, str]
    definitions: dg.Definitions
    instance: dg.DagsterInstance
    partition: str
    result: dg.ExecuteInProcessResult | None  # the daily_cycle run; None for a copy

    @property
    def gold_url(self) -> str:
        return self.settings["NOVA_POSTGRES_URL"]

    def gold(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.gold_url) as conn:
            return conn.execute(query, params).fetchall()

    def rerun(self, keys: Sequence[dg.AssetKey]) -> dg.ExecuteInProcessResult:
        """Materialize `keys` again, as the next daily cycle would."""
        job = self.definitions.resolve_implicit_global_asset_job_def()
        with environment(self.settings):
            result = job.execute_in_process(instance=self.instance, asset_selection=list(keys))
        assert result.success
        return result


def _load(settings: dict[str, str]) -> tuple[dg.Definitions, str]:
    """The code location bound to these settings, and the partition of the sample's last day."""
    with environment(settings):
        from nova_assets.definitions import defs

        definitions = defs()
    movements = pd.read_csv(Path(settings["NOVA_LANDING_DIR"]) / "erp" / "movements.csv", usecols=["movement_date"])
    return definitions, str(movements["movement_date"].max())


@pytest.fixture(scope="session")
def daily_cycle(tmp_path_factory: pytest.TempPathFactory, postgres_server: str) -> Cycle:
    """The whole daily cycle on a small synthetic business (CYCLE_MATERIALS, CYCLE_SITES, CYCLE_YEARS,
    CYCLE_HORIZON), once per session. Read it; a test module that changes it works on `copy_cycle`."""
    from nova_assets.cli import ensure_sample

    root = tmp_path_factory.mktemp("daily_cycle")
    settings = cycle_settings(
        root,
        postgres_server,
        "nova_cycle_test",
        materials=CYCLE_MATERIALS,
        sites=CYCLE_SITES,
        horizon=CYCLE_HORIZON,
        years=CYCLE_YEARS,
    )
    ensure_sample(settings)
    definitions, partition = _load(settings)
    instance = dg.DagsterInstance.ephemeral()
    with environment(settings):
        result = definitions.resolve_job_def("daily_cycle").execute_in_process(
            instance=instance, partition_key=partition
        )
    return Cycle(root, settings, definitions, instance, partition, result)


def copy_cycle(cycle: Cycle, root: Path, postgres_server: str, database: str) -> Cycle:
    """A copy of `cycle` to change: its folders copied under `root` (lake, landing, MLflow store), its
    gold database cloned from the original (CREATE DATABASE ... TEMPLATE), its code location bound to
    the copy, a fresh Dagster instance."""
    shutil.copytree(cycle.root, root, dirs_exist_ok=True)
    original = psycopg.conninfo.conninfo_to_dict(cycle.gold_url)["dbname"]
    settings = {name: value.replace(str(cycle.root), str(root)) for name, value in cycle.settings.items()}
    settings["NOVA_POSTGRES_URL"] = fresh_database(postgres_server, database, template=original)
    definitions, partition = _load(settings)
    return Cycle(root, settings, definitions, dg.DagsterInstance.ephemeral(), partition, None)
