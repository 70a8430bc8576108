"""A small daily cycle into a test gold database, built once per session, and the real web app served
on a free port of 127.0.0.1 against it (uvicorn in a thread), with one user per role."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import pandas as pd
import psycopg
import pytest
import uvicorn

from nova_assets.lib.platform import users
from nova_assets.settings import load_settings
from tests.integration.conftest import cycle_settings

PASSWORD = "senha-de-teste-123"
ROLES = {"viewer": users.Role.VIEWER, "analyst": users.Role.ANALYST, "admin": users.Role.ADMIN}
# What a re-run of the cycle after an override must refresh (the rest of the cycle is unchanged).
OVERRIDE_LOOP_ASSETS = [
    ["inventory", "reorder_points"],
    ["inventory", "alerts"],
    ["gold", "reorder_points"],
    ["gold", "alerts"],
    ["gold", "forecast_overrides"],
]


@dataclass
class Cycle:
    settings: dict[str, str]
    definitions: dg.Definitions
    instance: dg.DagsterInstance
    partition: str

    @property
    def gold_url(self) -> str:
        return self.settings["NOVA_POSTGRES_URL"]

    def gold(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.gold_url) as conn:
            return conn.execute(query, params).fetchall()

    def rerun(self, keys: list[list[str]]) -> None:
        """Materialize `keys` again, as the next daily cycle would."""
        job = self.definitions.resolve_implicit_global_asset_job_def()
        with environment(self.settings):
            result = job.execute_in_process(instance=self.instance, asset_selection=[dg.AssetKey(k) for k in keys])
        assert result.success


@contextmanager
def environment(settings: dict[str, str]) -> Iterator[None]:
    """The cycle's settings in os.environ while it runs, and what was there before afterwards (later
    tests of the session must not see this cycle's folders)."""
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


@pytest.fixture(scope="session")
def platform_cycle(tmp_path_factory: pytest.TempPathFactory, postgres_server: str) -> Cycle:
    root = tmp_path_factory.mktemp("platform")
    settings = cycle_settings(root, postgres_server, "nova_platform_test", materials=12, sites=4, horizon=14)
    from nova_assets.cli import ensure_sample

    ensure_sample(settings)
    with environment(settings):
        from nova_assets.definitions import defs

        definitions = defs()
        instance = dg.DagsterInstance.ephemeral()
        movements = pd.read_csv(Path(settings["NOVA_LANDING_DIR"]) / "erp" / "movements.csv", usecols=["movement_date"])
        partition = str(movements["movement_date"].max())
        job = definitions.resolve_job_def("daily_cycle")
        assert job.execute_in_process(instance=instance, partition_key=partition).success
    with psycopg.connect(settings["NOVA_POSTGRES_URL"]) as conn:
        for name, role in ROLES.items():
            users.add_user(conn, name, role, PASSWORD, created_by="tests")
        conn.commit()
    return Cycle(settings, definitions, instance, partition)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    url: str
    cycle: Cycle

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def token(self, who: str) -> str:
        with self.client() as client:
            answer = client.post("/api/v1/auth/login", json={"username": who, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            return answer.json()["access_token"]

    def as_user(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {self.token(who)}"})


@pytest.fixture(scope="session")
def web_server(platform_cycle: Cycle) -> Iterator[Server]:
    """The real app (create_app over web_config: nova_api role, generated secrets) under uvicorn."""
    from nova_assets.web.app import create_app
    from nova_assets.web.config import web_config

    settings = load_settings(
        platform_cycle.settings,
        overrides={"NOVA_LOGIN_MAX_FAILURES": "3", "NOVA_LOGIN_WINDOW_MINUTES": "15", "NOVA_ORDER_COST_BRL": "200"},
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(web_config(settings)), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the web app did not start in 30 s"
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", platform_cycle)
    server.should_exit = True
    thread.join(timeout=10)
