"""A copy of the session's small daily cycle (tests/integration/conftest.py), and the real web app served
on a free port of 127.0.0.1 against its gold database (uvicorn in a thread), with one user per role."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import dagster as dg
import httpx
import pandas as pd
import psycopg
import pytest
import uvicorn

from nova_assets.lib.gold.loader import replace_cycle
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


TRACKED_DAYS = 7  # days of an earlier cycle's forecast that the platform cycle's demand history observes
FORECAST_COLUMNS = "material_id, forecast_date, model, forecast, forecast_lo, forecast_hi, interval_level"


@pytest.fixture(scope="session")
def tracked_cycle(platform_cycle: Cycle) -> dict[str, Any]:
    """An ensemble forecast of TRACKED_DAYS days before the platform cycle (the latest one moved back),
    loaded into gold and measured by re-running the forecast_tracking mart as the next cycle runs it; the
    forecast rows are deleted afterwards (the mart keeps the measurement, as after the retention drops
    them). Returns that cycle's figures, computed here from gold's forecast and demand history."""
    latest = date.fromisoformat(platform_cycle.partition)
    earlier = latest - timedelta(days=TRACKED_DAYS)
    with psycopg.connect(platform_cycle.gold_url) as conn:
        rows = conn.execute(
            f"SELECT {FORECAST_COLUMNS} FROM analytics.forecasts WHERE cycle_date = %s AND model = 'Ensemble'",
            (latest,),
        ).fetchall()
        forecast = pd.DataFrame(rows, columns=FORECAST_COLUMNS.split(", "))
        forecast["forecast_date"] -= timedelta(days=TRACKED_DAYS)
        replace_cycle(conn, "analytics.forecasts", earlier, forecast)
        demand = pd.DataFrame(
            conn.execute("SELECT material_id, demand_date, demand FROM analytics.demand_history").fetchall(),
            columns=["material_id", "forecast_date", "demand"],
        )
        conn.commit()
    try:
        platform_cycle.rerun([dg.AssetKey(["marts", "forecast_tracking"])])
    finally:
        platform_cycle.gold("DELETE FROM analytics.forecasts WHERE cycle_date = %s RETURNING 1", (earlier,))
    paired = forecast.merge(demand, on=["material_id", "forecast_date"])
    inside = paired["demand"].between(paired["forecast_lo"], paired["forecast_hi"])
    return {
        "cycle_date": earlier,
        "days_observed": paired["forecast_date"].nunique(),
        "horizon_days": forecast["forecast_date"].nunique(),
        "bias": paired["forecast"].sum() / paired["demand"].sum() - 1,
        "wape": (paired["forecast"] - paired["demand"]).abs().sum() / paired["demand"].sum(),
        "interval_coverage": inside[paired["forecast_lo"].notna()].mean(),
    }


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
