"""API load bench: 50 concurrent users (asyncio + httpx) against the real web app on 127.0.0.1, over a
gold layer of 10,000 SYNTHETIC materials; p50/p95 per endpoint and errors, then the dashboard's first
page timed in headless Chromium.

    python bench/api_load.py                                  # server of NOVA_POSTGRES_URL, database nova_api_bench
    python bench/api_load.py --url postgresql://user:pw@host:5432/any --materials 10000 --users 50 --duration 60

Gold is synthesized directly (bench/gold_queries.py's generator: rows shaped like the cycle's, loaded
through the production loader, marts by `dbt build` of dbt_project/gold), plus the material page's
demand history and per-material errors. Only the database `nova_api_bench` (or --database) is dropped
and re-created. The web app runs in its own process (uvicorn, one worker) with the nova_api role; the
load stops after --duration seconds or --max-requests per user, whichever comes first.
Goals (issue 15): p95 < 50 ms for KPIs and alerts, < 150 ms for a material's page data, 0 errors;
the dashboard's first page usable < 1.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

import gold_queries  # noqa: E402

from nova_assets.lib.gold.loader import Scope, replace_cycle, replace_rows  # noqa: E402
from nova_assets.lib.platform import users  # noqa: E402

PASSWORD = "bench-password-123"
GOALS_MS = {"kpis": 50, "alerts (CRÍTICO/ALTO)": 50, "alerts (page 1)": 50, "material page data": 150}
CHROMIUM = Path("/usr/bin/chromium")


def material_page_rows(materials: list[str], cycle: dt.date, days: int, seed: int = 11) -> dict[str, pd.DataFrame]:
    """Recent demand and per-material model errors, shaped like the gold assets' (synthetic)."""
    rng = np.random.default_rng(seed)
    dates = [cycle - dt.timedelta(days=d) for d in range(days - 1, -1, -1)]
    history = pd.DataFrame(
        {
            "material_id": np.repeat(materials, days),
            "demand_date": np.tile(dates, len(materials)),
            "demand": rng.poisson(0.8, len(materials) * days).astype(float),
        }
    )
    errors = pd.DataFrame(
        {
            "material_id": np.repeat(materials, len(gold_queries.MODELS)),
            "model": np.tile(gold_queries.MODELS, len(materials)),
            "mae": rng.uniform(0.2, 2, len(materials) * len(gold_queries.MODELS)),
            "rmse": rng.uniform(0.3, 3, len(materials) * len(gold_queries.MODELS)),
            "bias": rng.normal(0, 0.2, len(materials) * len(gold_queries.MODELS)),
            "n_points": 56,
        }
    )
    return {"history": history.assign(cycle_date=cycle), "errors": errors}


def build_gold(url: str, materials: int, horizon: int) -> dt.date:
    cycles = [dt.date(2025, 11, 8), dt.date(2025, 11, 9)]
    data = gold_queries.generate(materials, 60, horizon, cycles)
    timings = gold_queries.load(url, data)
    print(f"gold loaded: {sum(t[1] for t in timings):,} rows in {sum(t[2] for t in timings):.0f} s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"marts built by dbt in {gold_queries.build_marts(url, Path(tmp)):.0f} s", flush=True)
    extra = material_page_rows(list(data["materials"]["material_id"]), cycles[-1], 180)
    with psycopg.connect(url) as conn:
        replace_rows(conn, "analytics.demand_history", extra["history"], Scope(), run_id="bench")
        replace_cycle(conn, "analytics.material_model_errors", cycles[-1], extra["errors"], run_id="bench")
        users.add_user(conn, "bench", users.Role.VIEWER, PASSWORD, created_by="bench")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return cycles[-1]


def serve(url: str, web_dir: str, port: int) -> None:
    """The web app as `nova web` runs it, in this (child) process."""
    import uvicorn

    from nova_assets.settings import load_settings
    from nova_assets.web.app import create_app
    from nova_assets.web.config import web_config

    settings = load_settings({}, overrides={"NOVA_WEB_DIR": web_dir, "NOVA_POSTGRES_URL": url})
    uvicorn.run(create_app(web_config(settings)), host="127.0.0.1", port=port, log_level="warning")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def sign_in(client: httpx.AsyncClient, samples: dict, errors: dict) -> bool:
    started = time.perf_counter()
    try:
        login = await client.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD})
    except httpx.HTTPError:
        login = None
    samples.setdefault("login (argon2id)", []).append((time.perf_counter() - started) * 1000)
    if login is None or login.status_code != 200:
        errors["login (argon2id)"] = errors.get("login (argon2id)", 0) + 1
        return False
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    return True


async def user_session(
    client: httpx.AsyncClient,
    materials: list[str],
    deadline: float,
    max_requests: int,
    think: float,
    samples: dict,
    errors: dict,
) -> None:
    """One signed-in user: a random request, then a pause of 0.5x-1.5x `think` seconds (reading the page)."""
    rng = random.Random(id(client))
    requests = [
        ("kpis", lambda: "/api/v1/kpis"),
        ("alerts (CRÍTICO/ALTO)", lambda: "/api/v1/alerts?severity=CRÍTICO&severity=ALTO"),
        ("alerts (page 1)", lambda: "/api/v1/alerts?limit=50"),
        ("material page data", lambda: f"/api/v1/materials/{rng.choice(materials)}"),
        ("materials search", lambda: f"/api/v1/materials?q={rng.choice(materials)[-3:]}"),
        ("forecasts of a material", lambda: f"/api/v1/forecasts?material_id={rng.choice(materials)}"),
    ]
    for _ in range(max_requests):
        if time.perf_counter() > deadline:
            break
        name, path = rng.choice(requests)
        started = time.perf_counter()
        try:
            answer = await client.get(path())
            ok = answer.status_code == 200
        except httpx.HTTPError:
            ok = False
        samples.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        if not ok:
            errors[name] = errors.get(name, 0) + 1
        if think:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


async def load(
    base: str, materials: list[str], n_users: int, duration: float, max_requests: int, think: float
) -> tuple:
    """All users sign in at once (argon2id: timed on its own line), then the timed load runs."""
    samples: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    clients = [httpx.AsyncClient(base_url=base, timeout=30) for _ in range(n_users)]
    try:
        signed = await asyncio.gather(*(sign_in(client, samples, errors) for client in clients))
        active = [client for client, ok in zip(clients, signed, strict=True) if ok]
        started = time.perf_counter()
        deadline = started + duration
        await asyncio.gather(
            *(user_session(c, materials, deadline, max_requests, think, samples, errors) for c in active)
        )
        return samples, errors, time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


def first_page_seconds(base: str) -> tuple[float, float] | None:
    """Sign in, then time '/' in a new tab: until its KPI cards and alert table are shown and clickable
    (DOMContentLoaded: the page is usable), and until both charts are drawn (plotly.js fetched after)."""
    if not CHROMIUM.exists():
        return None
    from playwright.sync_api import sync_playwright

    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=flags)
        context = browser.new_context(base_url=base)
        page = context.new_page()
        page.goto("/entrar")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        fresh = context.new_page()
        started = time.perf_counter()
        fresh.goto("/", wait_until="domcontentloaded")
        fresh.wait_for_selector(".kpi")
        usable = time.perf_counter() - started
        fresh.locator(".js-plotly-plot").nth(1).wait_for(timeout=30_000)
        drawn = time.perf_counter() - started
        browser.close()
    return usable, drawn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--url", default=os.environ.get("NOVA_BENCH_POSTGRES_URL") or os.environ.get("NOVA_POSTGRES_URL")
    )
    parser.add_argument("--database", default="nova_api_bench")
    parser.add_argument("--materials", type=int, default=10_000)
    parser.add_argument("--horizon", type=int, default=30)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (bounded)")
    parser.add_argument("--max-requests", type=int, default=2000, help="per user (bounded)")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's requests, s (0: none)")
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run")
    parser.add_argument("--serve", nargs=3, metavar=("URL", "WEB_DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve[0], args.serve[1], int(args.serve[2]))
        return 0
    if not args.url:
        parser.error("no server: set NOVA_POSTGRES_URL (e.g. `nova services up`) or pass --url")
    if args.reuse:
        url = f"{args.url.rsplit('/', 1)[0]}/{args.database}"
    else:
        url = gold_queries.scratch_database(args.url, args.database)
        build_gold(url, args.materials, args.horizon)
    with psycopg.connect(url) as conn:
        materials = [r[0] for r in conn.execute("SELECT material_id FROM core.materials")]
    port = free_port()
    with tempfile.TemporaryDirectory() as web_dir:
        server = subprocess.Popen([sys.executable, __file__, "--serve", url, web_dir, str(port)])
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            samples, errors, wall = asyncio.run(
                load(base, materials, args.users, args.duration, args.max_requests, args.think)
            )
            page = first_page_seconds(base)
        finally:
            server.terminate()
            server.wait(timeout=30)
    total = sum(len(v) for k, v in samples.items() if not k.startswith("login"))
    print(
        f"\n{args.users} users (think {args.think:g} s), {len(materials):,} materials (SYNTHETIC gold), {wall:.0f} s:"
        f" {total:,} requests,"
        f" {total / wall:.0f} req/s, errors {sum(errors.values())}"
    )
    print(f"{'endpoint':<28} {'n':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'goal p95':>9} {'errors':>7}")
    for name, values in sorted(samples.items()):
        values.sort()
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        goal = GOALS_MS.get(name)
        verdict = "" if goal is None else (f"< {goal} {'ok' if p95 < goal else 'MISSED'}")
        print(
            f"{name:<28} {len(values):>7} {statistics.median(values):>8.1f} {p95:>8.1f} {values[-1]:>8.1f}"
            f" {verdict:>9} {errors.get(name, 0):>7}"
        )
    if page is None:
        print("dashboard first page: not timed (no /usr/bin/chromium)")
    else:
        print(
            f"dashboard first page usable (KPIs, alerts): {page[0]:.2f} s (goal < 1.5 s); charts drawn {page[1]:.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
