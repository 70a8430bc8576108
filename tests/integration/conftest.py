"""A real PostgreSQL server for the tests: the project's own local cluster on its own port.

Set NOVA_TEST_POSTGRES_URL to use an existing server instead (a database the tests may wipe).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from nova_assets.services.local_stack import PROJECT_ROOT, embedded_settings
from nova_assets.services.postgres_server import LocalCluster, ensure_running, stop


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
    port = int(os.environ.get("NOVA_TEST_PG_PORT") or _free_port())
    cluster = LocalCluster(data_dir=PROJECT_ROOT / "data" / "postgres-test" / "main", port=port)
    cluster.data_dir.parent.mkdir(parents=True, exist_ok=True)
    was_running = cluster.is_running()
    ensure_running(cluster, ())
    yield cluster.url("postgres")
    if not was_running:
        stop(cluster)


def fresh_database(server_url: str, name: str) -> str:
    """Drop and create database `name` on the test server; return its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    base, _ = server_url.rsplit("/", 1)
    return f"{base}/{name}"


@pytest.fixture
def gold_url(postgres_server: str) -> str:
    """An empty gold database for one test."""
    return fresh_database(postgres_server, "nova_gold_test")


def cycle_settings(
    root: Path, postgres_server: str, database: str, *, materials: int, sites: int, horizon: int
) -> dict[str, str]:
    """Embedded settings of a one-year synthetic business under `root`, with gold in a fresh database."""
    (root / "mlflow").mkdir()
    settings = embedded_settings(
        root=root,
        use_environment=False,
        overrides={
            "NOVA_SNAPSHOT_DIR": str(PROJECT_ROOT / "data" / "snapshots"),
            "NOVA_SAMPLE_MATERIALS": str(materials),
            "NOVA_SAMPLE_SITES": str(sites),
            "NOVA_SAMPLE_YEARS": "1",
            "NOVA_FORECAST_HORIZON": str(horizon),
        },
    )
    settings["NOVA_POSTGRES_URL"] = fresh_database(postgres_server, database)
    return settings


def project_path(*parts: str) -> Path:
    return PROJECT_ROOT.joinpath(*parts)
