"""A copy of the session's small daily cycle (tests/integration/conftest.py), and the real web app served
on a free port of 127.0.0.1 against its gold database (uvicorn in a thread), with one user per role."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import httpx
import psycopg
import pytest
import uvicorn

from nova_assets.lib.platform import users
from nova_assets.settings import load_settings
from tests.integration.conftest import Cycle, copy_cycle

# Materials planned in their own name: a part superseded by another is planned on its successor.
PLANNED_MATERIALS = (
    "SELECT count(*) FROM core.materials m"
    " WHERE NOT EXISTS (SELECT 1 FROM core.materials s WHERE s.supersedes = m.material_id)"
)

PASSWORD = "senha-de-teste-123"
ROLES = {"viewer": users.Role.VIEWER, "analyst": users.Role.ANALYST, "admin": users.Role.ADMIN}
# What a re-run of the cycle after an override must refresh (the rest of the cycle is unchanged).
OVERRIDE_LOOP_ASSETS = [
    dg.AssetKey(["inventory", "reorder_points"]),
    dg.AssetKey(["inventory", "alerts"]),
    dg.AssetKey(["gold", "reorder_points"]),
    dg.AssetKey(["gold", "alerts"]),
    dg.AssetKey(["gold", "forecast_overrides"]),
]


@pytest.fixture(scope="session")
def platform_cycle(tmp_path_factory: pytest.TempPathFactory, postgres_server: str, daily_cycle: Cycle) -> Cycle:
    """A copy of the session's daily cycle (the platform's writes and re-runs must not reach the cycle
    other tests read), with one user per role."""
    cycle = copy_cycle(daily_cycle, tmp_path_factory.mktemp("platform"), postgres_server, "nova_platform_test")
    with psycopg.connect(cycle.gold_url) as conn:
        for name, role in ROLES.items():
            users.add_user(conn, name, role, PASSWORD, created_by="tests")
        conn.commit()
    return cycle


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
        overrides={
            "NOVA_LOGIN_MAX_FAILURES": "3",
            "NOVA_LOGIN_WINDOW_MINUTES": "15",
            "NOVA_ORDER_COST_BRL": "200",
            "NOVA_ERP_PLAUSIBLE_LIMITS": "erp_stock.on_hand=..2000000",  # the overrides' cap follows it
        },
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
