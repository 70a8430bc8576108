"""The override loop: a planner's override set through the API is read by the next daily cycle, which
uses it; gold and the API keep both the computed and the overridden value. And `nova users`."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from nova_assets.cli import main
from tests.integration.conftest import CYCLE_HORIZON
from tests.integration.platform.conftest import OVERRIDE_LOOP_ASSETS, Server


def _project_point(server: Server, material: str) -> tuple:
    return server.cycle.gold(
        "SELECT reorder_point, computed_reorder_point, reorder_point_override_id, mean_daily_demand,"
        " computed_mean_daily_demand, forecast_override_id, suggested_order, order_quantity, stock_position"
        " FROM analytics.reorder_points WHERE policy = 'project' AND material_id = %s"
        " AND cycle_date = (SELECT max(cycle_date) FROM analytics.reorder_points)",
        (material,),
    )[0]


def test_the_next_cycle_applies_overrides_and_keeps_both_values(web_server: Server) -> None:
    # planned materials that no other test of the session has overridden (the API and browser tests set some)
    materials = [
        r[0]
        for r in web_server.cycle.gold(
            "SELECT DISTINCT material_id FROM analytics.reorder_points r WHERE policy = 'project'"
            " AND cycle_date = (SELECT max(cycle_date) FROM analytics.reorder_points)"
            " AND NOT EXISTS (SELECT 1 FROM support.overrides o WHERE o.material_id = r.material_id) ORDER BY 1"
        )
    ]
    point_material, forecast_material, untouched = materials[1], materials[2], materials[3]
    before_point, before_forecast, before_untouched = (
        _project_point(web_server, m) for m in (point_material, forecast_material, untouched)
    )
    assert before_point[1] == pytest.approx(before_point[0])  # no override yet: computed = used
    new_point = before_point[0] + before_point[8] + 50  # far above the position: must order
    expires = date.today() + timedelta(days=20)
    with web_server.as_user("analyst") as client:
        made = client.post(
            "/api/v1/overrides",
            json={
                "material_id": point_material,
                "kind": "reorder_point",
                "value": new_point,
                "reason": "obra de expansão 5G",
                "expires_on": expires.isoformat(),
            },
        )
        assert made.status_code == 201, made.text
        planned = client.post(
            "/api/v1/overrides",
            json={
                "material_id": forecast_material,
                "kind": "forecast",
                "value": 7.5,
                "reason": "campanha de manutenção preventiva",
                "expires_on": expires.isoformat(),
            },
        )
        assert planned.status_code == 201
        assert client.post(
            "/api/v1/overrides",
            json={"material_id": untouched, "kind": "forecast", "value": 1, "reason": " ", "expires_on": "2030-01-01"},
        ).status_code in {400, 422}  # a reason is required
        past = client.post(
            "/api/v1/overrides",
            json={"material_id": untouched, "kind": "forecast", "value": 1, "reason": "x", "expires_on": "2020-01-01"},
        )
        assert past.status_code == 400

    web_server.cycle.rerun(OVERRIDE_LOOP_ASSETS)

    after_point = _project_point(web_server, point_material)
    assert after_point[0] == pytest.approx(new_point)
    assert after_point[1] == pytest.approx(before_point[1])  # the computed value is kept beside it
    assert after_point[2] == made.json()["override_id"]
    assert after_point[6] > 0  # the position is below the planner's point: an order is suggested
    after_forecast = _project_point(web_server, forecast_material)
    assert after_forecast[3] == pytest.approx(7.5)
    assert after_forecast[4] == pytest.approx(before_forecast[3])
    assert after_forecast[5] == planned.json()["override_id"]
    assert _project_point(web_server, untouched)[:6] == pytest.approx(before_untouched[:6], nan_ok=True)
    alert = web_server.cycle.gold(
        "SELECT severity, reorder_point FROM analytics.alerts WHERE material_id = %s"
        " AND cycle_date = (SELECT max(cycle_date) FROM analytics.alerts)",
        (point_material,),
    )[0]
    assert alert[0] in {"CRÍTICO", "ALTO"} and alert[1] == pytest.approx(new_point)
    rows = web_server.cycle.gold(
        "SELECT count(*), min(forecast), max(forecast) FROM analytics.forecast_overrides WHERE material_id = %s",
        (forecast_material,),
    )[0]
    assert rows == (CYCLE_HORIZON, 7.5, 7.5)
    computed = web_server.cycle.gold(
        "SELECT count(*) FROM analytics.forecasts WHERE material_id = %s AND model = 'Ensemble'", (forecast_material,)
    )[0][0]
    assert computed == CYCLE_HORIZON  # the computed forecast stays in analytics.forecasts: the FVA stays measurable

    with web_server.as_user("viewer") as client:
        page = client.get(f"/api/v1/materials/{point_material}").json()
        project = next(r for r in page["reorder_points"] if r["policy"] == "project")
        assert project["reorder_point"] == pytest.approx(new_point)
        assert project["computed_reorder_point"] == pytest.approx(before_point[1])
        assert page["overrides"][0]["reason"] == "obra de expansão 5G"
        planner = client.get(f"/api/v1/materials/{forecast_material}").json()["planner_forecast"]
        assert len(planner) == CYCLE_HORIZON
        fva = client.get("/api/v1/overrides/value-added").json()
        assert {r["material_id"] for r in fva["items"]} == {forecast_material}
        assert fva["summary"]["periods"] == 0  # no 30 days of actuals after the override yet

    audit = web_server.cycle.gold(
        "SELECT username, target, before, after FROM support.audit_log WHERE action = 'override_set' ORDER BY audit_id"
    )
    assert (audit[-2][0], audit[-2][1]) == ("analyst", f"material:{point_material}:reorder_point")
    assert audit[-2][3]["value"] == pytest.approx(new_point)

    with web_server.as_user("analyst") as client:
        cancelled = client.delete(f"/api/v1/overrides/{made.json()['override_id']}")
        assert cancelled.status_code == 200 and cancelled.json()["cancelled_by"] == "analyst"
        assert client.delete(f"/api/v1/overrides/{made.json()['override_id']}").status_code == 400
    web_server.cycle.rerun(OVERRIDE_LOOP_ASSETS)
    restored = _project_point(web_server, point_material)
    assert restored[0] == pytest.approx(before_point[0]) and restored[2] is None
    assert web_server.cycle.gold("SELECT count(*) FROM support.audit_log WHERE action = 'override_cancelled'")[0][0]


def test_nova_users_cli_adds_lists_and_disables(
    web_server: Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr("nova_assets.platform_cli._gold_url", lambda: web_server.cycle.gold_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("uma-senha-longa-o-bastante\n"))
    assert main(["users", "add", "operador", "--role", "analyst"]) == 0
    assert "created with role ANALYST" in capsys.readouterr().out
    with web_server.client() as client:  # signs in with the password read from standard input
        login = client.post(
            "/api/v1/auth/login", json={"username": "operador", "password": "uma-senha-longa-o-bastante"}
        )
        assert login.status_code == 200
    monkeypatch.setattr("sys.stdin", io.StringIO("curta\n"))
    assert main(["users", "add", "outro", "--role", "VIEWER"]) == 1
    assert "pelo menos 10" in capsys.readouterr().err
    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "operador" in listing and "ANALYST" in listing and "password" not in listing.lower().split("\n", 1)[1]
    assert main(["users", "disable", "operador"]) == 0
    with web_server.client() as client:
        denied = client.post(
            "/api/v1/auth/login", json={"username": "operador", "password": "uma-senha-longa-o-bastante"}
        )
        assert denied.status_code == 401
    assert web_server.cycle.gold("SELECT username FROM support.audit_log WHERE action = 'user_disabled'")[-1] == (
        "cli",
    )
