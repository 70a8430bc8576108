"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright's Python API):
sign in, open every page with data, acknowledge an alert, set and see an override, sign out.

Screenshots of each page are kept in tests/artifacts/screenshots/ (ignored by git).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.integration.conftest import CYCLE_HORIZON
from tests.integration.platform.conftest import PASSWORD, PLANNED_MATERIALS, TRACKED_DAYS, Server

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
LAUNCH_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make browser)")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, web_server: Server) -> Iterator:
    context = browser.new_context(base_url=web_server.url, viewport={"width": 1400, "height": 900}, locale="pt-BR")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    # script errors and CSP refusals; not the browser's note about a refused sign-in's 401 status
    tab.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    yield tab
    context.close()
    assert errors == [], errors  # no script error, no CSP refusal


def sign_in(page, who: str) -> None:
    page.goto("/")
    assert page.url.endswith("/entrar")  # not signed in: sent to the sign-in page
    page.fill("input[name=username]", who)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def charts_drawn(page, count: int) -> None:
    page.locator(".js-plotly-plot").nth(count - 1).wait_for(timeout=30_000)  # a selector: the CSP forbids eval


def test_every_page_renders_with_data(page, web_server: Server) -> None:
    sign_in(page, "viewer")
    assert "Visão geral" in page.inner_text("h1")
    assert page.locator(".kpi").count() >= 6
    charts_drawn(page, 2)
    assert "SINTÉTICOS" in page.inner_text(".banner.synthetic")
    # the policy's stock against the design formula's: a cost said as one, never a negative saving
    savings = web_server.cycle.gold("SELECT savings_brl FROM marts.kpi_daily ORDER BY cycle_date DESC LIMIT 1")[0][0]
    stock_kpi = page.locator(".kpi", has_text="Valor em estoque").inner_text()
    assert "R$ -" not in stock_kpi and ("acima da fórmula" in stock_kpi) == (savings is not None and savings < 0)
    shot(page, "01_visao_geral")

    page.goto("/mapa")
    assert page.locator(".tilemap .tile").count() == 27
    assert page.locator("table tbody tr").count() == 5  # the five regions
    shot(page, "02_mapa")
    page.click(".tile >> text=BA")
    page.wait_for_url("**/mapa/BA")
    assert "Bahia" in page.inner_text("h1")
    shot(page, "03_mapa_bahia")

    page.goto("/alertas")
    planned = web_server.cycle.gold(PLANNED_MATERIALS)[0][0]
    assert page.locator("table.alerts tbody tr").count() == planned
    assert page.locator("form.act").count() == 0  # a VIEWER sees no acknowledge button
    shot(page, "04_alertas")

    page.goto("/materiais")
    page.fill("input[name=q]", "")
    catalogue = web_server.cycle.gold("SELECT count(*) FROM core.materials")[0][0]
    assert page.locator("table tbody tr").count() == catalogue
    first = page.locator("table tbody tr td a").first
    material = first.inner_text()
    first.click()
    page.wait_for_url(f"**/materiais/{material}")
    charts_drawn(page, 2)
    assert page.locator("#chart-demand .scatterlayer .trace").count() >= 1
    assert page.locator("form.override-form").count() == 0  # VIEWER
    shot(page, "05_material")

    for path, name, marker in (
        ("/recomendacoes", "06_recomendacoes", "table tbody tr"),
        ("/clusters", "07_clusters", "#chart-towers .js-plotly-plot, .js-plotly-plot"),
        ("/modelos", "08_modelos", "table tbody tr"),
        ("/calculadoras", "09_calculadoras", "#calc-results .kpi"),
    ):
        page.goto(path)
        assert page.locator(marker).count() >= 1, path
        if path in {"/clusters", "/modelos"}:
            charts_drawn(page, 1)
        shot(page, name)


def test_models_page_links_to_mlflow_runs(page, web_server: Server) -> None:
    sign_in(page, "viewer")
    page.goto("/modelos")
    runs = web_server.cycle.gold(
        "SELECT mlflow_run_id FROM marts.model_comparison WHERE mlflow_run_id IS NOT NULL"
        " AND cycle_date = (SELECT max(cycle_date) FROM marts.model_comparison)"
    )
    links = [page.locator("a", has_text="abrir run").nth(i).get_attribute("href") for i in range(len(runs))]
    assert runs and {link.rsplit("/", 1)[1] for link in links} == {r[0] for r in runs}
    ranked = web_server.cycle.gold(
        "SELECT model FROM marts.model_comparison WHERE full_coverage"
        " AND cycle_date = (SELECT max(cycle_date) FROM marts.model_comparison) ORDER BY rmsse_rank"
    )
    charts_drawn(page, 1)  # the chart compares what the table ranks, not models scored on other series
    assert page.evaluate("document.getElementById('chart-models').data[0].x") == [r[0] for r in ranked]


def test_models_page_tracks_each_cycle_against_the_demand_since(page, web_server: Server, tracked_cycle: dict) -> None:
    sign_in(page, "viewer")
    page.goto("/modelos")
    charts_drawn(page, 2)
    bias = page.evaluate("document.getElementById('chart-tracking').data[0].y")
    assert bias == [pytest.approx(tracked_cycle["bias"])]
    row = page.locator("#tracking table tbody tr").inner_text()
    assert f"{tracked_cycle['cycle_date']:%d/%m/%Y}" in row and f"{TRACKED_DAYS} de {CYCLE_HORIZON} (parcial)" in row
    page.locator("#tracking").scroll_into_view_if_needed()
    shot(page, "08b_modelos_acompanhamento")


def test_calculator_gives_the_cycle_functions_answer(page, web_server: Server) -> None:
    sign_in(page, "viewer")
    page.goto("/calculadoras")
    for name, value in {
        "mean_daily": "2",
        "sigma_daily": "1",
        "lead_time_days": "9",
        "lead_time_std_days": "0",
        "unit_cost": "100",
    }.items():
        page.fill(f"input[name={name}]", value)
    page.select_option("select[name=service_measure]", "csl")
    page.fill("input[name=service_level]", "0.95")
    page.click("form.calc button[type=submit]")
    page.wait_for_selector("#calc-results")
    assert page.inner_text("#reorder-point") == "25,2"  # 20 + 1.645 * sqrt(10)
    # prefilled with the cycle's settings: NOVA_ORDER_COST_BRL 200 (test server), SELIC 15 % + 0.10
    assert page.inner_text("#eoq") == "108,1"  # sqrt(2 * 730 * 200 / (100 * 0.25))


def test_analyst_acknowledges_an_alert_sets_an_override_and_signs_out(page, web_server: Server) -> None:
    sign_in(page, "analyst")
    page.goto("/alertas")
    row = page.locator("table.alerts tbody tr:has(form.act button:text('Reconhecer'))").first
    material = row.get_attribute("id").removeprefix("alert-")
    row.locator("input[name=comment]").fill("comprador avisado")
    row.locator("form.act button").click()
    page.wait_for_load_state()
    acknowledged = page.locator(f"#alert-{material}")
    assert "reconhecido" in acknowledged.inner_text() and "comprador avisado" in acknowledged.inner_text()
    shot(page, "10_alerta_reconhecido")

    page.goto(f"/materiais/{material}")
    page.select_option("select[name=kind]", "reorder_point")
    page.fill("input[name=value]", "42,5")
    page.fill("input[name=expires_on]", (date.today() + timedelta(days=15)).isoformat())
    page.fill("input[name=reason]", "reforço para a obra na ERB")
    page.click("form.override-form button[type=submit]")
    page.wait_for_url(f"**/materiais/{material}")
    overrides = page.inner_text("#overrides")
    assert "reforço para a obra na ERB" in overrides and "42,50" in overrides and "ativo" in overrides
    shot(page, "11_ajuste")
    stored = web_server.cycle.gold(
        "SELECT value, reason FROM support.overrides WHERE material_id = %s AND cancelled_at IS NULL"
        " AND kind = 'reorder_point'",
        (material,),
    )
    assert stored == [(42.5, "reforço para a obra na ERB")]

    page.click("#logout")
    page.wait_for_url("**/entrar")
    page.goto("/alertas")
    assert page.url.endswith("/entrar")  # the session is over


def test_wrong_password_is_refused_on_the_page(page) -> None:
    page.goto("/entrar")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert "incorretos" in page.inner_text(".error")
    shot(page, "00_entrar")


def test_openapi_docs_render_offline(page) -> None:
    page.goto("/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Nova Corrente API" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 20  # every operation listed: Swagger UI 5 reads OpenAPI 3.1
