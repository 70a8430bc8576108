"""The API as served (uvicorn on 127.0.0.1) over a gold layer the daily cycle built: shapes, the role
matrix, tokens, SQL injection, logout, CSRF, audit, rate limits, the API's database role."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta

import httpx
import jwt
import psycopg
import pytest

from nova_assets.lib.platform.sessions import ALGORITHM, AUDIENCE, ISSUER
from nova_assets.settings import load_settings
from nova_assets.web.config import JWT_SECRET_FILE, web_config
from tests.integration.conftest import CYCLE_HORIZON
from tests.integration.platform.conftest import PASSWORD, PLANNED_MATERIALS, TRACKED_DAYS, Server

LISTS = [
    "/api/v1/alerts",
    "/api/v1/forecasts",
    "/api/v1/items",
    "/api/v1/materials",
    "/api/v1/recommendations",
    "/api/v1/clustering/tower-performance",
    "/api/v1/clustering/equipment-failure",
    "/api/v1/geographic/data",
    "/api/v1/models/performance",
]
PAGE_KEYS = {"items", "total", "limit", "offset", "cycle_date", "note"}


def _material(server: Server) -> str:
    return server.cycle.gold("SELECT min(material_id) FROM core.materials")[0][0]


def _alert(server: Server, severity: tuple[str, ...] = ("CRÍTICO", "ALTO", "MÉDIO", "OK")) -> tuple[date, str]:
    return server.cycle.gold(
        "SELECT cycle_date, material_id FROM analytics.alerts WHERE severity = ANY(%s)"
        " ORDER BY array_position(ARRAY['CRÍTICO','ALTO','MÉDIO','OK'], severity), material_id LIMIT 1",
        (list(severity),),
    )[0]


def _audit(server: Server, action: str) -> list[tuple]:
    return server.cycle.gold(
        "SELECT username, address, target, outcome, before, after FROM support.audit_log WHERE action = %s"
        " ORDER BY audit_id",
        (action,),
    )


# --- health, shapes ------------------------------------------------------------------------------


def test_health_checks_need_no_token_and_tell_the_last_cycle(web_server: Server) -> None:
    with web_server.client() as client:
        assert client.get("/health").json() == {"status": "ok", "database": True}
        detail = client.get("/api/v1/health").json()
    assert detail["database"] is True
    assert detail["last_cycle_date"] == web_server.cycle.partition
    assert detail["schema_version"] >= 7 and detail["version"]
    assert {"data_as_of", "data_is_stale", "stale_sources", "last_load_at"} <= set(detail)
    assert detail["synthetic"] is True  # the cycle ran on the generated sample: an API client is told
    assert detail["data"].startswith("SYNTHETIC sample: the tables are built from")


def test_every_list_has_the_page_shape_with_rows_from_gold(web_server: Server) -> None:
    with web_server.as_user("viewer") as client:
        for path in LISTS:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.text)
            body = answer.json()
            assert set(body) == PAGE_KEYS, path
            assert body["total"] >= len(body["items"]) > 0, path
    n_materials = web_server.cycle.gold(PLANNED_MATERIALS)[0][0]
    with web_server.as_user("viewer") as client:
        assert client.get("/api/v1/alerts").json()["total"] == n_materials
        states = client.get("/api/v1/geographic/data").json()["items"]
        assert len(states) == 27 and {s["macro_region"] for s in states} == {
            "Norte",
            "Nordeste",
            "Centro-Oeste",
            "Sudeste",
            "Sul",
        }
        failure = client.get("/api/v1/clustering/equipment-failure").json()
        assert failure["total"] >= len(failure["items"]) > 0
        assert {"site_id", "equipment_type", "failure_rate_per_year", "mtbf_days", "cluster"} <= set(
            failure["items"][0]
        )


def test_paging_is_stable_and_complete(web_server: Server) -> None:
    with web_server.as_user("viewer") as client:
        whole = client.get("/api/v1/alerts", params={"limit": 500}).json()
        pages = [
            client.get("/api/v1/alerts", params={"limit": 5, "offset": offset}).json()
            for offset in range(0, whole["total"], 5)
        ]
    assert [row["material_id"] for page in pages for row in page["items"]] == [r["material_id"] for r in whole["items"]]
    assert {page["total"] for page in pages} == {whole["total"]}


def test_every_list_pages_with_limit_and_offset(web_server: Server) -> None:
    lists = [(path, {}) for path in LISTS]
    # the overrides list is empty here: test_overrides_and_users_lists_answer_pages pages it
    lists.append(("/api/v1/geographic/data", {"level": "region"}))
    with web_server.as_user("viewer") as client:
        for path, extra in lists:
            whole = client.get(path, params={**extra, "limit": 500}).json()
            offset = min(5, whole["total"] - 2)  # a full page of 2 inside every list, short ones too
            assert offset >= 0, (path, whole["total"])
            page = client.get(path, params={**extra, "limit": 2, "offset": offset}).json()
            assert (page["limit"], page["offset"], page["total"]) == (2, offset, whole["total"]), path
            assert len(page["items"]) == 2 and page["items"] == whole["items"][offset : offset + 2], path
        states = client.get("/api/v1/geographic/data", params={"limit": 2, "offset": 5}).json()
        assert len(states["items"]) == 2 and states["total"] == 27
        models = client.get("/api/v1/models/performance").json()
        assert models["total"] >= 2
        one_by_one = [
            client.get("/api/v1/models/performance", params={"limit": 1, "offset": i}).json()["items"]
            for i in range(models["total"] + 1)
        ]
        assert one_by_one == [[m] for m in models["items"]] + [[]]


def test_filters_narrow_the_lists(web_server: Server) -> None:
    material = _material(web_server)
    with web_server.as_user("viewer") as client:
        alerts = client.get("/api/v1/alerts", params={"material_id": material}).json()
        assert [a["material_id"] for a in alerts["items"]] == [material]
        counts = dict(
            web_server.cycle.gold(
                "SELECT severity, count(*) FROM analytics.alerts"
                " WHERE cycle_date = (SELECT max(cycle_date) FROM analytics.alerts) GROUP BY severity"
            )
        )
        assert len(counts) >= 2  # a filter that drops rows, and an order to check
        for severity, count in counts.items():
            page = client.get("/api/v1/alerts", params={"severity": severity, "limit": 500}).json()
            assert page["total"] == len(page["items"]) == count, severity
            assert {r["severity"] for r in page["items"]} == {severity}
        everything = client.get("/api/v1/alerts", params={"limit": 500}).json()["items"]
        ranks = ["CRÍTICO", "ALTO", "MÉDIO", "OK"]
        assert [r["severity"] for r in everything] == sorted((r["severity"] for r in everything), key=ranks.index)
        forecasts = client.get("/api/v1/forecasts", params={"material_id": material, "model": "Ensemble"}).json()
        assert forecasts["total"] == CYCLE_HORIZON and {f["model"] for f in forecasts["items"]} == {"Ensemble"}
        state = client.get("/api/v1/alerts", params={"state": "BA"}).json()["total"]
        assert 0 < state <= alerts["total"] * 100
        assert client.get("/api/v1/alerts", params={"state": "RS"}).json()["total"] == 0


def test_material_page_data_has_every_part(web_server: Server) -> None:
    material = _material(web_server)
    with web_server.as_user("viewer") as client:
        body = client.get(f"/api/v1/materials/{material}").json()
        assert client.get("/api/v1/materials/NO-SUCH-PART").status_code == 404
    assert body["material"]["material_id"] == material
    assert {r["policy"] for r in body["reorder_points"]} == {"project", "baseline_design"}
    assert len(body["demand_history"]) > 100
    assert {"Ensemble"} <= {e["model"] for e in body["model_errors"]}
    ensemble = [f for f in body["forecasts"] if f["model"] == "Ensemble"]
    assert len(ensemble) == CYCLE_HORIZON and all(0 <= f["forecast_lo"] <= f["forecast_hi"] for f in ensemble)
    assert len(body["projection"]) == CYCLE_HORIZON
    assert set(body) >= {"alert", "sites", "open_orders", "recommendations", "overrides", "planner_forecast"}


def test_kpis_models_and_calculators(web_server: Server) -> None:
    with web_server.as_user("viewer") as client:
        kpis = client.get("/api/v1/kpis").json()
        assert kpis["latest"]["cycle_date"] == web_server.cycle.partition
        assert 0 <= kpis["latest"]["stockout_rate"] <= 1 and kpis["trend"]
        models = client.get("/api/v1/models/performance").json()["items"]
        assert any(m["is_ensemble"] for m in models)
        assert all(m["mlflow_run_url"].endswith(m["mlflow_run_id"]) for m in models if m["mlflow_run_id"])
        rop = client.post(
            "/api/v1/calculators/reorder-point",
            json={"mean_daily": 2, "sigma_daily": 1, "lead_time_days": 9, "service_level": 0.95},
        ).json()
        eoq = client.post("/api/v1/calculators/eoq", json={"mean_daily": 2, "unit_cost": 100}).json()
        base = client.post(
            "/api/v1/calculators/design-baseline", json={"mean_daily": 2, "sigma_daily": 1, "lead_time_days": 9}
        ).json()
    # lead time 9 + review 1 = 10 days: E = 20, sigma = sqrt(10) * 1, z(0.95) = 1.6449
    assert rop["expected_demand"] == pytest.approx(20)
    assert rop["reorder_point"] == pytest.approx(20 + 1.6449 * 10**0.5, abs=1e-3)
    # order cost NOVA_ORDER_COST_BRL (200 in the test server), carrying rate SELIC 15 % + NOVA_HOLDING_COST_RATE 0.10
    assert eoq["economic_order_quantity"] == pytest.approx((2 * 730 * 200 / (100 * 0.25)) ** 0.5)
    assert base["reorder_point"] == pytest.approx(18 + 1.65 * 3)


def test_forecast_tracking_is_served_from_the_mart_the_cycle_builds(web_server: Server, tracked_cycle: dict) -> None:
    with web_server.as_user("viewer") as client:
        body = client.get("/api/v1/models/tracking").json()
    assert set(body) == PAGE_KEYS and body["total"] == 1  # the platform cycle itself has no day observed yet
    (row,) = body["items"]
    assert row["cycle_date"] == str(tracked_cycle["cycle_date"]) == body["cycle_date"]
    assert (row["days_observed"], row["horizon_days"], row["complete"]) == (TRACKED_DAYS, CYCLE_HORIZON, False)
    for name in ("bias", "wape", "interval_coverage"):
        assert row[name] == pytest.approx(tracked_cycle[name]), name
    assert row["backtest_bias"] is None  # that cycle ran no backtest here


def test_a_fill_rate_target_needs_an_order_quantity(web_server: Server) -> None:
    item = {"mean_daily": 2, "sigma_daily": 1, "lead_time_days": 9, "service_measure": "fill_rate"}
    with web_server.as_user("viewer") as client:
        for lot in ({}, {"order_quantity": 0}):
            refused = client.post("/api/v1/calculators/reorder-point", json={**item, **lot})
            assert refused.status_code == 422, refused.text  # not a silent ~6-sigma safety stock
            assert "fill_rate precisa de order_quantity > 0" in refused.text
        sized = client.post("/api/v1/calculators/reorder-point", json={**item, "order_quantity": 10})
        assert sized.status_code == 200
        assert 0 < sized.json()["safety_stock"] < 3 * sized.json()["sigma_lead_time_demand"]
    # the dashboard's calculator passes the EOQ as the lot: it keeps answering a fill-rate target
    with httpx.Client(base_url=web_server.url, timeout=30) as browser:
        assert browser.post("/entrar", data={"username": "viewer", "password": PASSWORD}).status_code == 303
        page = browser.get("/calculadoras", params={"service_measure": "fill_rate"})
        assert page.status_code == 200 and 'id="safety-stock"' in page.text and 'class="error"' not in page.text
        no_lot = browser.get("/calculadoras", params={"service_measure": "fill_rate", "unit_cost": "0"})
        assert 'class="error"' in no_lot.text and 'id="safety-stock"' not in no_lot.text  # no EOQ: says so


# --- roles ---------------------------------------------------------------------------------------

READS = [("GET", path, None) for path in [*LISTS, "/api/v1/kpis", "/api/v1/overrides", "/api/v1/auth/me"]]


def _writes(server: Server) -> list[tuple[str, str, dict | None, str]]:
    cycle, material = _alert(server, ("OK",))
    expires = (date.today() + timedelta(days=10)).isoformat()
    override = {"material_id": material, "kind": "reorder_point", "value": 3, "reason": "teste", "expires_on": expires}
    return [
        ("POST", f"/api/v1/alerts/{cycle}/{material}/acknowledge", {"comment": "visto"}, "ANALYST"),
        ("POST", "/api/v1/overrides", override, "ANALYST"),
        ("GET", "/api/v1/alerts?format=csv", None, "ANALYST"),
        ("GET", "/api/v1/users", None, "ADMIN"),
        ("GET", "/api/v1/audit", None, "ADMIN"),
        ("POST", "/api/v1/users", {"username": "novo-via-api", "role": "VIEWER", "password": "x" * 12}, "ADMIN"),
    ]


RANK = {"viewer": 0, "analyst": 1, "admin": 2}
NEEDED = {"VIEWER": 0, "ANALYST": 1, "ADMIN": 2}


def test_role_matrix_is_enforced_on_the_server(web_server: Server) -> None:
    writes = _writes(web_server)
    with web_server.client() as anonymous:
        for method, path, _body in READS:
            assert anonymous.request(method, path).status_code == 401, path
        for method, path, body, _ in writes:
            assert anonymous.request(method, path, json=body).status_code == 401, path
    for who in ("viewer", "analyst", "admin"):
        with web_server.as_user(who) as client:
            for method, path, _ in READS:
                assert client.request(method, path).status_code == 200, (who, path)
            for method, path, body, needed in writes:
                status = client.request(method, path, json=body).status_code
                if RANK[who] >= NEEDED[needed]:
                    assert status in {200, 201, 400}, (who, path, status)  # 400: the same user added twice
                else:
                    assert status == 403, (who, path, status)


# --- tokens --------------------------------------------------------------------------------------


def _secret(server: Server) -> str:
    from pathlib import Path

    return (Path(server.cycle.settings["NOVA_WEB_DIR"]) / JWT_SECRET_FILE).read_text().strip()


def _claims(server: Server, **change: object) -> dict:
    real = jwt.decode(server.token("viewer"), _secret(server), algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER)
    return {**real, **change}


def _me(server: Server, token: str) -> int:
    with server.client() as client:
        return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_expired_tampered_foreign_and_unsigned_tokens_are_refused(web_server: Server) -> None:
    secret = _secret(web_server)
    good = web_server.token("viewer")
    assert _me(web_server, good) == 200
    past = datetime.now(UTC) - timedelta(minutes=1)
    expired = jwt.encode(_claims(web_server, exp=past, iat=past - timedelta(minutes=30)), secret, algorithm=ALGORITHM)
    assert _me(web_server, expired) == 401
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "ADMIN"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert _me(web_server, f"{header}.{forged}.{signature}") == 401
    assert _me(web_server, good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")) == 401
    unsigned_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    assert _me(web_server, f"{unsigned_header}.{payload}.") == 401
    foreign = jwt.encode(_claims(web_server), "another-secret-of-at-least-32-bytes!!", algorithm=ALGORITHM)
    assert _me(web_server, foreign) == 401
    assert _me(web_server, "not-a-token") == 401


def test_logout_ends_the_token_on_the_server(web_server: Server) -> None:
    token = web_server.token("analyst")
    headers = {"Authorization": f"Bearer {token}"}
    with web_server.client() as client:
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
        assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
        assert client.get("/api/v1/alerts", headers=headers).status_code == 401
    assert _audit(web_server, "logout")[-1][0] == "analyst"


def test_disabling_a_user_ends_its_sessions(web_server: Server) -> None:
    with psycopg.connect(web_server.cycle.gold_url) as conn:
        from nova_assets.lib.platform import users

        users.add_user(conn, "temporario", users.Role.VIEWER, PASSWORD, created_by="tests")
        conn.commit()
    token = web_server.token("temporario")
    assert _me(web_server, token) == 200
    with web_server.as_user("admin") as client:
        answer = client.patch("/api/v1/users/temporario", json={"active": False})
        assert answer.status_code == 200 and answer.json()["active"] is False
    assert _me(web_server, token) == 401
    with web_server.client() as client:
        login = client.post("/api/v1/auth/login", json={"username": "temporario", "password": PASSWORD})
        assert login.status_code == 401
    assert _audit(web_server, "user_disabled")[-1][2] == "user:temporario"


# --- injection, errors, headers ------------------------------------------------------------------

INJECTIONS = [
    "' OR '1'='1",
    "x'; DROP TABLE core.materials; --",
    "%' UNION SELECT username, password_hash FROM support.users --",
    "\\'; SELECT pg_sleep(5); --",
    "BA') OR 1=1 --",
    "_%",
]
STRING_FILTERS = {
    "/api/v1/alerts": ["material_id", "q", "site_id", "state", "category", "criticality", "demand_class", "severity"],
    "/api/v1/forecasts": ["material_id", "model"],
    "/api/v1/items": ["q", "category"],
    "/api/v1/materials": ["q", "category", "criticality", "demand_class", "severity", "abc_class", "site_id"],
    "/api/v1/recommendations": ["kind", "material_id", "site_id"],
    "/api/v1/overrides": ["material_id"],
    "/api/v1/audit": ["action", "username"],
}
TYPED_FILTERS = {
    "/api/v1/alerts": ["cycle_date", "status", "limit", "offset"],
    "/api/v1/forecasts": ["cycle_date", "date_from"],
    "/api/v1/recommendations": ["priority"],
    "/api/v1/geographic/data": ["level", "cycle_date"],
}


def test_sql_injection_in_every_filter_is_answered_safely(web_server: Server) -> None:
    before = web_server.cycle.gold("SELECT (SELECT count(*) FROM core.materials), (SELECT count(*) FROM support.users)")
    with web_server.as_user("admin") as client:
        for path, names in STRING_FILTERS.items():
            for name in names:
                for payload in INJECTIONS:
                    answer = client.get(path, params={name: payload})
                    assert answer.status_code in {200, 422}, (path, name, payload, answer.text)
                    body = answer.json()
                    rows = body if isinstance(body, list) else body.get("items", [])
                    assert rows == [], (path, name, payload)  # matched nothing, ran nothing
                    assert "password_hash" not in answer.text
        for path, names in TYPED_FILTERS.items():
            for name in names:
                answer = client.get(path, params={name: INJECTIONS[0]})
                assert answer.status_code == 422, (path, name)
                assert "SELECT" not in answer.text and "Traceback" not in answer.text
        answer = client.get(f"/api/v1/materials/{INJECTIONS[1]}")
        assert answer.status_code == 404
    after = web_server.cycle.gold("SELECT (SELECT count(*) FROM core.materials), (SELECT count(*) FROM support.users)")
    assert after == before


def test_errors_say_nothing_of_the_internals_and_headers_are_set(web_server: Server) -> None:
    with web_server.as_user("viewer") as client:
        answer = client.get("/api/v1/alerts", params={"cycle_date": "2025-13-45"})
        assert answer.status_code == 422 and "psycopg" not in answer.text
        missing = client.get("/api/v1/no-such-thing")
        assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
        page = client.get("/api/v1/kpis", headers={"Origin": "https://evil.example"})
    headers = page.headers
    assert "access-control-allow-origin" not in headers  # CORS closed by default
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    with web_server.client() as client:
        preflight = client.options(
            "/api/v1/alerts", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
        )
        assert "access-control-allow-origin" not in preflight.headers


def test_openapi_docs_are_served_without_internet(web_server: Server) -> None:
    with web_server.client() as client:
        docs = client.get("/docs")
        spec = client.get("/openapi.json").json()
        assert client.get("/static/vendor/swagger-ui-bundle.js").status_code == 200
        assert client.get("/static/vendor/plotly.min.js").status_code == 200
    assert "/static/vendor/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
    for path in ("/api/v1/kpis", "/api/v1/alerts", "/api/v1/materials/{material_id}", "/api/v1/auth/login"):
        assert path in spec["paths"]


def test_openapi_declares_the_bearer_scheme_so_docs_can_authorize(web_server: Server) -> None:
    with web_server.client() as client:
        spec = client.get("/openapi.json").json()
    # Swagger UI's Authorize button comes from securitySchemes; "Try it out" sends the token where listed
    schemes = spec["components"]["securitySchemes"]
    assert schemes == {name: schemes[name] for name in schemes if schemes[name]["type"] == "http"}
    (name,) = schemes
    assert schemes[name]["scheme"] == "bearer"
    for path, method in [("/api/v1/alerts", "get"), ("/api/v1/overrides", "post"), ("/api/v1/users", "get")]:
        assert {name: []} in spec["paths"][path][method]["security"], path
    for path, method in [("/api/v1/auth/login", "post"), ("/api/v1/health", "get"), ("/health", "get")]:
        assert "security" not in spec["paths"][path][method], path
    # what Swagger sends once authorized: the login's token as "Authorization: Bearer ..."
    with web_server.client() as client:
        token = client.post("/api/v1/auth/login", json={"username": "viewer", "password": PASSWORD}).json()
        assert token["token_type"] == "bearer"
        authorized = client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert authorized.status_code == 200
        anonymous = client.get("/api/v1/alerts")
        assert anonymous.status_code == 401 and anonymous.json() == {"detail": "autenticação necessária"}
        assert anonymous.headers["www-authenticate"] == "Bearer"


# --- cookie sessions and CSRF --------------------------------------------------------------------


def test_cookie_sessions_need_the_csrf_token_to_write(web_server: Server) -> None:
    cycle, material = _alert(web_server, ("MÉDIO", "OK"))
    with httpx.Client(base_url=web_server.url, timeout=30, follow_redirects=False) as browser:
        login = browser.post("/entrar", data={"username": "analyst", "password": PASSWORD})
        assert login.status_code == 303
        cookie = login.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        csrf = browser.get("/api/v1/auth/me").json()["csrf_token"]
        path = f"/api/v1/alerts/{cycle}/{material}/acknowledge"
        assert browser.post(path, json={"comment": "sem token"}).status_code == 403
        assert browser.post(path, json={"comment": "x"}, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
        done = browser.post(path, json={"comment": "com token"}, headers={"X-CSRF-Token": csrf})
        assert done.status_code == 200 and done.json()["status"] == "acknowledged"
        form = browser.post(f"/alertas/{cycle}/{material}/resolver", data={"comment": "sem token", "next": "/"})
        assert form.status_code == 403


# --- writes and their audit ----------------------------------------------------------------------


def test_acknowledge_and_resolve_an_alert_are_audited_with_before_and_after(web_server: Server) -> None:
    cycle, material = _alert(web_server, ("CRÍTICO", "ALTO"))
    with web_server.as_user("analyst") as client:
        first = client.post(f"/api/v1/alerts/{cycle}/{material}/acknowledge", json={"comment": "comprando"})
        assert first.status_code == 200 and first.json()["status"] == "acknowledged"
        second = client.post(f"/api/v1/alerts/{cycle}/{material}/resolve", json={"comment": "pedido 4500"})
        assert second.json()["status"] == "resolved"
        listed = client.get("/api/v1/alerts", params={"material_id": material}).json()["items"][0]
        assert listed["status"] == "resolved" and listed["status_by"] == "analyst"
        assert client.get("/api/v1/alerts", params={"status": "resolved", "material_id": material}).json()["total"]
        assert client.post(f"/api/v1/alerts/{cycle}/NO-SUCH/acknowledge", json={}).status_code == 404
    ack = [r for r in _audit(web_server, "alert_acknowledged") if r[2] == f"alert:{cycle}:{material}"][-1]
    resolved = [r for r in _audit(web_server, "alert_resolved") if r[2] == f"alert:{cycle}:{material}"][-1]
    assert ack[0] == "analyst" and ack[1] == "127.0.0.1" and ack[4] is None and ack[5]["status"] == "acknowledged"
    assert resolved[4]["status"] == "acknowledged" and resolved[5]["comment"] == "pedido 4500"


def test_logins_failures_and_exports_are_audited(web_server: Server) -> None:
    with web_server.client() as client:
        assert client.post("/api/v1/auth/login", json={"username": "viewer", "password": "wrong"}).status_code == 401
    web_server.token("viewer")
    with web_server.as_user("analyst") as client:
        export = client.get("/api/v1/materials", params={"format": "csv", "category": ""})
        assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
        assert export.text.splitlines()[0].startswith("material_id,")
    with web_server.as_user("viewer") as client:
        assert client.get("/api/v1/materials", params={"format": "csv"}).status_code == 403
    assert any(r[0] == "viewer" and r[3] == "failed" for r in _audit(web_server, "login_failed"))
    assert any(r[0] == "viewer" and r[3] == "ok" for r in _audit(web_server, "login"))
    assert any(r[0] == "analyst" and r[2] == "materials" for r in _audit(web_server, "export"))


def test_failed_logins_are_rate_limited_per_user_and_address(web_server: Server) -> None:
    with psycopg.connect(web_server.cycle.gold_url) as conn:
        from nova_assets.lib.platform import users

        users.add_user(conn, "alvo", users.Role.VIEWER, PASSWORD, created_by="tests")
        conn.commit()
    with web_server.client() as client:
        for _ in range(3):  # NOVA_LOGIN_MAX_FAILURES=3 in the test server
            assert client.post("/api/v1/auth/login", json={"username": "alvo", "password": "errada"}).status_code == 401
        throttled = client.post("/api/v1/auth/login", json={"username": "alvo", "password": PASSWORD})
        assert throttled.status_code == 429
        # another user from the same address is not locked out by alvo's failures
        assert client.post("/api/v1/auth/login", json={"username": "viewer", "password": PASSWORD}).status_code == 200
    assert [r[0] for r in _audit(web_server, "login_throttled")] == ["alvo"]


def test_users_api_adds_with_argon2id_and_audits(web_server: Server) -> None:
    with web_server.as_user("admin") as client:
        made = client.post("/api/v1/users", json={"username": "Planejador.2", "role": "ANALYST", "password": "p" * 12})
        assert made.status_code == 201 and made.json()["username"] == "planejador.2"
        short = client.post("/api/v1/users", json={"username": "curta", "role": "VIEWER", "password": "123"})
        assert short.status_code == 422
    stored = web_server.cycle.gold("SELECT password_hash FROM support.users WHERE username = 'planejador.2'")[0][0]
    assert stored.startswith("$argon2id$")
    assert _audit(web_server, "user_added")[-1][2] == "user:planejador.2"


def test_an_override_value_is_capped_at_the_erp_imports_plausible_quantity(web_server: Server) -> None:
    """The cap is the import's limit as configured: the web app runs with erp_stock.on_hand=..2000000
    (conftest), so a reorder point may reach 2,000,000 and a daily forecast stays at the default 1,000,000."""
    material = _material(web_server)
    count = "SELECT count(*) FROM support.overrides WHERE material_id = %s"
    before = web_server.cycle.gold(count, (material,))
    expires = (date.today() + timedelta(days=10)).isoformat()
    body = {"material_id": material, "reason": "erro de digitação", "expires_on": expires}
    refused = [
        ("forecast", 1e300, "1.000.000"),
        ("reorder_point", 1e300, "2.000.000"),
        ("forecast", 1_000_001, "1.000.000"),
    ]
    with web_server.as_user("analyst") as client:
        for kind, value, limit in refused:
            answer = client.post("/api/v1/overrides", json={**body, "kind": kind, "value": value})
            assert answer.status_code == 422, (kind, value, answer.text)
            (problem,) = answer.json()["detail"]
            assert problem["loc"] == ["body", "value"] and f"não pode passar de {limit}" in problem["msg"]
        accepted = client.post("/api/v1/overrides", json={**body, "kind": "reorder_point", "value": 1_500_000})
        assert accepted.status_code == 201, accepted.text
        assert client.delete(f"/api/v1/overrides/{accepted.json()['override_id']}").status_code == 200
    with httpx.Client(base_url=web_server.url, timeout=30, follow_redirects=False) as browser:
        assert browser.post("/entrar", data={"username": "analyst", "password": PASSWORD}).status_code == 303
        csrf = browser.get("/api/v1/auth/me").json()["csrf_token"]
        form = {"csrf_token": csrf, "kind": "forecast", "value": "1e300", "reason": "x", "expires_on": expires}
        page = browser.post(f"/materiais/{material}/ajustes", data=form)  # the material page's form
        assert page.status_code == 400 and "não pode passar de 1.000.000" in page.text
    assert web_server.cycle.gold(count, (material,))[0][0] == before[0][0] + 1  # the accepted one, cancelled


def test_overrides_and_users_lists_answer_pages(web_server: Server) -> None:
    # three reorder-point overrides of the last materials (cancelled at the end: no later cycle applies them)
    materials = [r[0] for r in web_server.cycle.gold("SELECT material_id FROM core.materials ORDER BY 1 DESC LIMIT 3")]
    expires = (date.today() + timedelta(days=10)).isoformat()
    with web_server.as_user("analyst") as client:
        made = [
            client.post(
                "/api/v1/overrides",
                json={"material_id": m, "kind": "reorder_point", "value": 5, "reason": "teste", "expires_on": expires},
            ).json()["override_id"]
            for m in materials
        ]
        whole = client.get("/api/v1/overrides", params={"limit": 500}).json()
        assert set(whole) == PAGE_KEYS and whole["total"] == len(whole["items"]) >= 3
        assert [o["override_id"] for o in whole["items"][:3]] == made[::-1]  # newest first
        page = client.get("/api/v1/overrides", params={"limit": 2, "offset": 1}).json()
        assert (page["total"], page["limit"], page["offset"]) == (whole["total"], 2, 1)
        assert page["items"] == whole["items"][1:3]
        one = client.get("/api/v1/overrides", params={"material_id": materials[0]}).json()
        assert one["total"] == 1 and one["items"][0]["created_by"] == "analyst"
        export = client.get("/api/v1/overrides", params={"format": "csv"})
        assert export.status_code == 200 and export.text.startswith("override_id,material_id,kind,value")
        for override_id in made:
            assert client.delete(f"/api/v1/overrides/{override_id}").status_code == 200
        assert client.get("/api/v1/overrides", params={"material_id": materials[0]}).json()["total"] == 0
    with web_server.as_user("admin") as client:
        everyone = client.get("/api/v1/users", params={"limit": 500}).json()
        assert set(everyone) == PAGE_KEYS and everyone["total"] == len(everyone["items"]) >= 3
        names = [u["username"] for u in everyone["items"]]
        assert names == sorted(names) and {"admin", "analyst", "viewer"} <= set(names)
        page = client.get("/api/v1/users", params={"limit": 2, "offset": 1}).json()
        assert (page["total"], page["limit"], page["offset"]) == (everyone["total"], 2, 1)
        assert page["items"] == everyone["items"][1:3]
        assert "password_hash" not in json.dumps(everyone) and "user_id" not in everyone["items"][0]


def test_the_api_database_role_reads_gold_and_writes_only_its_own_tables(web_server: Server) -> None:
    url = web_config(load_settings(web_server.cycle.settings)).api_database_url
    assert "nova_api" in url
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM core.materials").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM marts.kpi_daily").fetchone()[0] > 0
        for statement in (
            "INSERT INTO core.materials VALUES ('X', 'x', 'x', 'UN', 1, 'A', 'x')",
            "DELETE FROM analytics.alerts",
            "UPDATE support.audit_log SET action = 'nothing'",
            "DELETE FROM support.audit_log",
            "SELECT * FROM support.delivery_log",
            "DROP TABLE support.users",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_a_list_page_past_the_end_goes_to_the_last_page_with_its_filters(web_server: Server) -> None:
    with httpx.Client(base_url=web_server.url, timeout=30, follow_redirects=False) as browser:
        assert browser.post("/entrar", data={"username": "viewer", "password": PASSWORD}).status_code == 303
        for path, filters in [("/materiais", {"q": "MAT"}), ("/alertas", {}), ("/recomendacoes", {})]:
            moved = browser.get(path, params={**filters, "page": 999})
            assert moved.status_code == 303, (path, moved.text[:200])
            target = httpx.URL(moved.headers["location"])
            assert target.path == path and dict(target.params) == {**filters, "page": target.params["page"]}
            last = int(target.params["page"])
            page = browser.get(str(target))
            assert page.status_code == 200 and (last == 1 or f"página {last} de {last}" in page.text)
