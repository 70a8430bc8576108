"""The dashboard, in Portuguese: server-rendered Jinja2 pages over the same domain calls as the API.

Charts are Plotly figures built here as JSON and drawn by static/app.js with the plotly.js the
`plotly` wheel ships (no CDN). Writes are HTML forms carrying the session's CSRF token.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.platform import alert_actions, audit, calculators, overrides, queries, sessions, users
from nova_assets.lib.platform.errors import Forbidden, Invalid, NotFound, PlatformError, Throttled, Unauthorized
from nova_assets.lib.platform.users import Role
from nova_assets.lib.sample import SYNTHETIC_MARKER
from nova_assets.web.auth import SESSION_COOKIE, Admin, Analyst, Conn, Principal, Viewer, client_address
from nova_assets.web.schemas import Text

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

NAV = [
    ("/", "Visão geral"),
    ("/mapa", "Mapa"),
    ("/alertas", "Alertas"),
    ("/materiais", "Materiais"),
    ("/recomendacoes", "Recomendações"),
    ("/clusters", "Clusters"),
    ("/modelos", "Modelos"),
    ("/calculadoras", "Calculadoras"),
]
SEVERITY_CLASS = {"CRÍTICO": "critico", "ALTO": "alto", "MÉDIO": "medio", "OK": "ok"}
STATUS_PT = {"open": "aberto", "acknowledged": "reconhecido", "resolved": "resolvido"}
LIFECYCLE_PT = {"phasing_out": "em desativação", "no_installed_base": "sem base instalada", "active": "ativo"}
KIND_PT = {"reorder_point": "ponto de pedido", "forecast": "previsão diária"}
# A tile-grid map of Brazil: (column, row) of each state, no geometry needed.
STATE_TILES = {
    "RR": (2, 0), "AP": (4, 0),
    "AM": (1, 1), "PA": (3, 1), "MA": (4, 1), "CE": (5, 1), "RN": (6, 1),
    "AC": (0, 2), "RO": (1, 2), "TO": (3, 2), "PI": (4, 2), "PE": (5, 2), "PB": (6, 2),
    "MT": (2, 3), "GO": (3, 3), "BA": (4, 3), "SE": (5, 3), "AL": (6, 3),
    "MS": (2, 4), "DF": (3, 4), "MG": (4, 4), "ES": (5, 4),
    "SP": (3, 5), "RJ": (4, 5),
    "PR": (3, 6),
    "SC": (3, 7),
    "RS": (3, 8),
}  # fmt: skip
DAY_AXIS = {"type": "date", "tickformat": "%d/%m/%Y", "dtick": 86_400_000}
CHART_HISTORY_DAYS = 90
MACRO_REGIONS = ("Norte", "Nordeste", "Centro-Oeste", "Sudeste", "Sul")
MAP_METRICS = {
    "sla_exposure_brl": "Exposição SLA (R$)",
    "materials_on_alert": "Materiais em alerta (CRÍTICO/ALTO)",
    "stock_value_brl": "Valor em estoque (R$)",
    "forecast_next_30d": "Previsão 30 dias (unid.)",
}


# --- formatting (Brazilian conventions) -----------------------------------------------------------


def br_number(value: Any, decimals: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def br_money(value: Any) -> str:
    return "—" if value is None else "R$ " + br_number(value, 0)


def br_percent(value: Any, decimals: int = 1) -> str:
    return "—" if value is None else br_number(100 * float(value), decimals) + " %"


def br_date(value: Any) -> str:
    return "—" if value is None else value.strftime("%d/%m/%Y")


templates.env.filters.update(num=br_number, money=br_money, pct=br_percent, dmy=br_date)
templates.env.globals.update(
    NAV=NAV, SEVERITY_CLASS=SEVERITY_CLASS, STATUS_PT=STATUS_PT, KIND_PT=KIND_PT, LIFECYCLE_PT=LIFECYCLE_PT, Role=Role
)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    who: Principal | None = getattr(request.state, "principal", None)
    return templates.TemplateResponse(
        request,
        name,
        {
            "who": who,
            "synthetic": request.app.state.data_label.share,
            "synthetic_marker": SYNTHETIC_MARKER,
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status, status=status, message=message)


PAGE_SIZE = 50


def list_page(request: Request, name: str, result: queries.Page, page: int, **context: Any) -> Response:
    """A filtered, paged list: the filters kept in the pager's and the CSV export's links. A page past
    the end (an old link after the list shrank) is sent to the last page, filters kept."""
    filters = {k: v for k, v in request.query_params.items() if k != "page" and v}
    pages = max(1, math.ceil(result.total / PAGE_SIZE))
    if page > pages:
        return RedirectResponse(f"{request.url.path}?{urlencode({**filters, 'page': pages})}", status_code=303)
    return render(
        request,
        name,
        result=result,
        filters=filters,
        page=page,
        pages=pages,
        query=lambda **kw: urlencode({**filters, **kw}),
        export=urlencode({**filters, "format": "csv"}),
        **context,
    )


PageNumber = Annotated[int, Query(ge=1, le=100_000)]  # a list page's `page`, 1 the first


def paged(page: int) -> queries.Paging:
    return queries.Paging(PAGE_SIZE, (page - 1) * PAGE_SIZE)


def check_csrf(request: Request, who: Principal, token: str) -> None:
    if not request.app.state.tokens.check_csrf(who.session.jti, token):
        raise Forbidden("formulário expirado ou de outra origem (CSRF); recarregue a página")


def back(url: str) -> RedirectResponse:
    """Redirect only inside this site."""
    safe = url if url.startswith("/") and not url.startswith("//") else "/"
    return RedirectResponse(safe, status_code=303)


def charts_json(figures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Figures ready for app.js (non-finite numbers dropped: JSON has none)."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, date):
            return value.isoformat()
        return value

    return [clean(f) for f in figures]


def layout(title: str, **extra: Any) -> dict[str, Any]:
    """A chart's common layout; the legend goes below the x-axis title when there is one."""
    titled_x = bool(extra.get("xaxis", {}).get("title"))
    return {
        "title": {"text": title, "font": {"size": 15}},
        "margin": {"l": 55, "r": 20, "t": 45, "b": 95 if titled_x else 45},
        "legend": {"orientation": "h", "y": -0.3, "yanchor": "top"} if titled_x else {"orientation": "h", "y": -0.2},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "separators": ",.",
        **extra,
    }


# --- sign-in ------------------------------------------------------------------------------------


@router.get("/entrar", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html")


@router.post("/entrar")
def login_submit(
    *,
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    state = request.app.state
    try:
        issued = sessions.login(
            state.pool.connection, state.tokens, username, password, client_address(request), state.config.login_limits
        )
    except (Unauthorized, Throttled) as exc:
        return render(
            request,
            "login.html",
            status_code=429 if isinstance(exc, Throttled) else 401,
            error=str(exc),
            username=username,
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=int(state.config.token_ttl.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=state.config.secure_cookies,
        path="/",
    )
    return response


@router.post("/sair")
def logout_submit(
    *,
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
    who: Viewer,
    conn: Conn,
) -> Response:
    check_csrf(request, who, csrf_token)
    sessions.logout(conn, request.app.state.tokens, who.session, client_address(request))
    response = RedirectResponse("/entrar", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- Visão geral --------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def overview(*, request: Request, who: Viewer, conn: Conn) -> HTMLResponse:
    data = queries.kpis(conn)
    health = queries.health(conn)
    latest = data["latest"]
    trend = data["trend"]
    cycle = health["last_cycle_date"]
    top = request.app.state.alert_pages.get(
        conn, queries.AlertFilter(severity=["CRÍTICO", "ALTO"]), queries.Paging(10, 0)
    )
    days = [r["cycle_date"] for r in trend]
    figures = []
    if trend:
        figures = [
            {
                "target": "trend-risk",
                "data": [
                    {"x": days, "y": [r["stockout_rate"] for r in trend], "name": "Ruptura (materiais)"},
                    {"x": days, "y": [r["below_reorder_point_rate"] for r in trend], "name": "Abaixo do PP"},
                    {"x": days, "y": [r["site_stockout_rate"] for r in trend], "name": "Ruptura (sites)"},
                ],
                "layout": layout("Risco de ruptura por ciclo", yaxis={"tickformat": ".0%"}, xaxis=DAY_AXIS),
            },
            {
                "target": "trend-alerts",
                "data": [
                    {"x": days, "y": [r["alerts_critical"] for r in trend], "name": "CRÍTICO", "type": "bar",
                     "marker": {"color": "#b3261e"}},
                    {"x": days, "y": [r["alerts_high"] for r in trend], "name": "ALTO", "type": "bar",
                     "marker": {"color": "#e8710a"}},
                    {"x": days, "y": [r["alerts_medium"] for r in trend], "name": "MÉDIO", "type": "bar",
                     "marker": {"color": "#f2b705"}},
                ],
                "layout": layout("Alertas por ciclo", barmode="stack", xaxis=DAY_AXIS),
            },
        ]  # fmt: skip
    return render(
        request,
        "overview.html",
        latest=latest,
        health=health,
        cycle=cycle,
        counts=queries.alert_counts(conn, cycle),
        top=top,
        open_overrides=data["open_overrides"],
        cycles=len(trend),
        charts=charts_json(figures),
    )


# --- Mapa -----------------------------------------------------------------------------------------


def _buckets(values: list[float]) -> list[int]:
    """0 for zero, else 1..5 by fifths of the largest value."""
    top = max(values, default=0) or 1
    return [0 if not v else min(5, 1 + int(4.999 * v / top)) for v in values]


@router.get("/mapa", response_class=HTMLResponse)
def map_page(
    *,
    request: Request,
    metric: Annotated[str, Query()] = "sla_exposure_brl",
    who: Viewer,
    conn: Conn,
) -> HTMLResponse:
    if metric not in MAP_METRICS:
        metric = "sla_exposure_brl"
    page = queries.geographic(conn, "state")
    rows = {r["region_code"]: r for r in page.items}
    values = [float(rows.get(uf, {}).get(metric) or 0) for uf in STATE_TILES]
    tiles = [
        {"uf": uf, "col": col + 1, "row": row + 1, "level": level, "row_data": rows.get(uf), "value": value}
        for (uf, (col, row)), level, value in zip(STATE_TILES.items(), _buckets(values), values, strict=True)
    ]
    regions = []
    for name in MACRO_REGIONS:
        members = [r for r in page.items if r.get("macro_region") == name]
        regions.append(
            {
                "name": name,
                "states": len(members),
                "sites": sum(r["sites"] for r in members),
                "value": sum(float(r[metric] or 0) for r in members),
                "on_alert": sum(r["materials_on_alert"] for r in members),
            }
        )
    return render(
        request,
        "map.html",
        tiles=tiles,
        regions=regions,
        metric=metric,
        metrics=MAP_METRICS,
        cycle=page.cycle_date,
        money=metric.endswith("_brl"),
    )


@router.get("/mapa/{uf}", response_class=HTMLResponse)
def state_page(*, request: Request, uf: str, who: Viewer, conn: Conn) -> HTMLResponse:
    uf = uf.upper()
    if uf not in STATE_TILES:
        raise NotFound(f"UF {uf} não existe")
    state = next((r for r in queries.geographic(conn, "state").items if r["region_code"] == uf), None)
    regions = [r for r in queries.geographic(conn, "region").items if r["state_code"] == uf]
    alerts = queries.alerts(conn, queries.AlertFilter(state=uf, severity=["CRÍTICO", "ALTO"]), queries.Paging(20, 0))
    return render(request, "state.html", uf=uf, state=state, regions=regions, alerts=alerts)


# --- Alertas --------------------------------------------------------------------------------------


@router.get("/alertas", response_class=HTMLResponse)
def alerts_page(
    *,
    request: Request,
    severity: Annotated[str | None, Query(max_length=20)] = None,
    q: Text = None,
    site_id: Text = None,
    state: Annotated[str | None, Query(max_length=2)] = None,
    criticality: Annotated[str | None, Query(max_length=1)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cycle_date: date | None = None,
    page: PageNumber = 1,
    who: Viewer,
    conn: Conn,
) -> Response:
    flt = queries.AlertFilter(
        cycle_date=cycle_date,
        severity=[severity] if severity else [],
        q=q,
        site_id=site_id,
        state=state,
        criticality=criticality,
        status=status if status in STATUS_PT else None,
    )
    result = request.app.state.alert_pages.get(conn, flt, paged(page))
    return list_page(request, "alerts.html", result, page, counts=queries.alert_counts(conn, result.cycle_date))


@router.post("/alertas/{cycle_date}/{material_id}/{action}")
def alert_action_submit(
    *,
    request: Request,
    cycle_date: date,
    material_id: str,
    action: str,
    csrf_token: Annotated[str, Form()] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
    next_url: Annotated[str, Form(alias="next")] = "/alertas",
    who: Analyst,
    conn: Conn,
) -> Response:
    check_csrf(request, who, csrf_token)
    status = {"reconhecer": "acknowledged", "resolver": "resolved"}.get(action)
    if status is None:
        raise NotFound("ação desconhecida")
    alert_actions.act(conn, who.user, cycle_date, material_id, status, comment, client_address(request))
    return back(next_url)


# --- Materiais ------------------------------------------------------------------------------------


@router.get("/materiais", response_class=HTMLResponse)
def materials_page(
    *,
    request: Request,
    q: Text = None,
    category: Text = None,
    criticality: Annotated[str | None, Query(max_length=1)] = None,
    severity: Annotated[str | None, Query(max_length=20)] = None,
    page: PageNumber = 1,
    who: Viewer,
    conn: Conn,
) -> Response:
    flt = queries.MaterialFilter(q=q, category=category, criticality=criticality, severity=severity)
    return list_page(request, "materials.html", queries.materials(conn, flt, paged(page)), page)


def material_figures(data: dict[str, Any]) -> list[dict[str, Any]]:
    history = data["demand_history"][-CHART_HISTORY_DAYS:]
    ensemble = [r for r in data["forecasts"] if r["model"] == ENSEMBLE_MODEL]
    level = next((r["interval_level"] for r in ensemble if r["interval_level"]), None)
    band_name = f"intervalo {round(100 * level)} %" if level else "intervalo"
    demand: list[dict[str, Any]] = [
        {"x": [r["demand_date"] for r in history], "y": [r["demand"] for r in history], "type": "bar",
         "name": "Demanda (saídas/dia)", "marker": {"color": "#8aa4c8"}},
    ]  # fmt: skip
    if ensemble and any(r["forecast_hi"] is not None for r in ensemble):
        demand += [
            {"x": [r["forecast_date"] for r in ensemble], "y": [r["forecast_hi"] for r in ensemble], "type": "scatter",
             "mode": "lines", "line": {"width": 0}, "showlegend": False, "hoverinfo": "skip"},
            {"x": [r["forecast_date"] for r in ensemble], "y": [r["forecast_lo"] for r in ensemble], "type": "scatter",
             "mode": "lines", "line": {"width": 0}, "fill": "tonexty", "fillcolor": "rgba(31,95,173,0.18)",
             "name": band_name},
        ]  # fmt: skip
    demand.append(
        {"x": [r["forecast_date"] for r in ensemble], "y": [r["forecast"] for r in ensemble], "type": "scatter",
         "mode": "lines", "name": "Previsão calculada (Ensemble)", "line": {"color": "#1f5fad", "width": 2}}
    )  # fmt: skip
    if data["planner_forecast"]:
        planner = data["planner_forecast"]
        demand.append(
            {"x": [r["forecast_date"] for r in planner], "y": [r["forecast"] for r in planner], "type": "scatter",
             "mode": "lines", "name": "Previsão ajustada (planejador)",
             "line": {"color": "#b3261e", "dash": "dash", "width": 2}}
        )  # fmt: skip
    projection = data["projection"]
    stock: list[dict[str, Any]] = [
        {"x": [r["date"] for r in projection], "y": [r["projected_on_hand"] for r in projection], "type": "scatter",
         "mode": "lines", "name": "Em mãos projetado", "line": {"color": "#8aa4c8"}},
        {"x": [r["date"] for r in projection], "y": [r["projected_position"] for r in projection], "type": "scatter",
         "mode": "lines", "name": "Posição projetada (em mãos + pedidos)", "line": {"color": "#1f5fad", "width": 2}},
        {"x": [r["date"] for r in projection], "y": [r["reorder_point"] for r in projection], "type": "scatter",
         "mode": "lines", "name": "Ponto de pedido", "line": {"color": "#b3261e", "dash": "dot"}},
    ]  # fmt: skip
    project = next((r for r in data["reorder_points"] if r["policy"] == "project"), None)
    if project and project.get("reorder_point_override_id") and projection:
        stock.append(
            {"x": [projection[0]["date"], projection[-1]["date"]],
             "y": [project["computed_reorder_point"]] * 2, "type": "scatter", "mode": "lines",
             "name": "Ponto de pedido calculado", "line": {"color": "#777", "dash": "dash"}}
        )  # fmt: skip
    return [
        {"target": "chart-demand", "data": demand, "layout": layout("Demanda diária e previsão")},
        {"target": "chart-stock", "data": stock, "layout": layout("Projeção do estoque contra o ponto de pedido")},
    ]


@router.get("/materiais/{material_id}", response_class=HTMLResponse)
def material_page(
    *,
    request: Request,
    material_id: str,
    who: Viewer,
    conn: Conn,
) -> HTMLResponse:
    data = queries.material(conn, material_id)
    if data is None:
        raise NotFound(f"material {material_id} não existe")
    history = overrides.listing(conn, material_id, include_closed=True)
    today = date.today()
    return render(
        request,
        "material.html",
        m=data,
        project=next((r for r in data["reorder_points"] if r["policy"] == "project"), None),
        baseline=next((r for r in data["reorder_points"] if r["policy"] != "project"), None),
        overrides=history,
        open_overrides=[o for o in history if o.cancelled_at is None and o.expires_on >= today],
        default_expiry=today + timedelta(days=30),
        status=alert_actions.current_status(conn, data["cycle_date"], material_id) if data["alert"] else None,
        charts=charts_json(material_figures(data)),
    )


@router.post("/materiais/{material_id}/ajustes")
def override_submit(
    *,
    request: Request,
    material_id: str,
    csrf_token: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()],
    value: Annotated[str, Form(max_length=50)],
    reason: Annotated[str, Form(max_length=2000)],
    expires_on: Annotated[date, Form()],
    who: Analyst,
    conn: Conn,
) -> Response:
    check_csrf(request, who, csrf_token)
    try:
        number = float(value.replace(".", "").replace(",", ".") if "," in value else value)
    except ValueError as exc:
        raise Invalid(f"valor inválido: {value!r}") from exc
    maximum = request.app.state.config.override_maximum
    overrides.create(
        conn, who.user, material_id, kind, number, reason, expires_on, client_address(request), maximum=maximum
    )
    return back(f"/materiais/{material_id}")


@router.post("/ajustes/{override_id}/cancelar")
def override_cancel_submit(
    *,
    request: Request,
    override_id: int,
    csrf_token: Annotated[str, Form()] = "",
    who: Analyst,
    conn: Conn,
) -> Response:
    check_csrf(request, who, csrf_token)
    cancelled = overrides.cancel(conn, who.user, override_id, client_address(request))
    return back(f"/materiais/{cancelled.material_id}")


# --- Recomendações, Clusters, Modelos --------------------------------------------------------------


@router.get("/recomendacoes", response_class=HTMLResponse)
def recommendations_page(
    *,
    request: Request,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    priority: Annotated[int | None, Query(ge=1, le=4)] = None,
    page: PageNumber = 1,
    who: Viewer,
    conn: Conn,
) -> Response:
    result = queries.recommendations(conn, queries.RecommendationFilter(kind=kind, priority=priority), paged(page))
    return list_page(request, "recommendations.html", result, page)


@router.get("/clusters", response_class=HTMLResponse)
def clusters_page(*, request: Request, who: Viewer, conn: Conn) -> HTMLResponse:
    towers = queries.tower_clusters(conn, queries.Paging(queries.MAX_PAGE, 0))
    matrix = queries.abc_xyz(conn)
    figures = []
    if towers.items:
        figures.append(
            {
                "target": "chart-towers",
                "data": [
                    {
                        "x": [r["daily_issue_events"] for r in towers.items if r["cluster_id"] == c],
                        "y": [r["daily_value_brl"] for r in towers.items if r["cluster_id"] == c],
                        "text": [r["site_name"] for r in towers.items if r["cluster_id"] == c],
                        "mode": "markers",
                        "type": "scatter",
                        "name": next((r["label"] for r in towers.items if r["cluster_id"] == c), str(c)),
                        "marker": {"size": 11},
                    }
                    for c in sorted({r["cluster_id"] for r in towers.items})
                ],
                "layout": layout(
                    "Torres: saídas por dia x valor por dia",
                    xaxis={"title": {"text": "saídas/dia"}},
                    yaxis={"title": {"text": "R$/dia"}},
                ),
            }
        )
    return render(
        request,
        "clusters.html",
        towers=towers,
        tower_profiles=queries.cluster_profiles(conn, "tower"),
        material_profiles=queries.cluster_profiles(conn, "material"),
        matrix=matrix,
        failures=queries.equipment_failure_clusters(conn, queries.Paging(queries.MAX_PAGE, 0)),
        obsolescence=queries.obsolescence(conn),
        charts=charts_json(figures),
    )


TRACKING_CYCLES = 90  # cycles on the realised-bias chart
TRACKING_ROWS = 10  # the newest of them in the table beside it


@router.get("/modelos", response_class=HTMLResponse)
def models_page(*, request: Request, who: Viewer, conn: Conn) -> HTMLResponse:
    page = queries.models_performance(conn)
    base = request.app.state.config.mlflow_ui_url.rstrip("/")
    ranked = [r for r in page.items if r["full_coverage"] and r["rmsse"] is not None]  # as the table ranks
    figures = []
    if ranked:
        figures.append(
            {
                "target": "chart-models",
                "data": [
                    {
                        "x": [r["model"] for r in ranked],
                        "y": [r["rmsse"] for r in ranked],
                        "type": "bar",
                        "marker": {"color": ["#b3261e" if r["is_ensemble"] else "#1f5fad" for r in ranked]},
                        "name": "RMSSE",
                    }
                ],
                "layout": layout(
                    "RMSSE no backtest, modelos com posição (menor é melhor)",
                    margin={"l": 55, "r": 20, "t": 45, "b": 90},
                ),
            }
        )
    tracking = queries.forecast_tracking(conn, queries.Paging(TRACKING_CYCLES, 0))
    if tracking.items:
        cycles = list(reversed(tracking.items))  # oldest first, as a time axis
        figures.append(
            {
                "target": "chart-tracking",
                "data": [
                    {"x": [r["cycle_date"] for r in cycles], "y": [r["bias"] for r in cycles], "type": "scatter",
                     "mode": "lines+markers", "name": "Viés observado", "line": {"color": "#b3261e", "width": 2}},
                    {"x": [r["cycle_date"] for r in cycles], "y": [r["backtest_bias"] for r in cycles],
                     "type": "scatter", "mode": "lines", "name": "Viés no backtest",
                     "line": {"color": "#1f5fad", "dash": "dot"}},
                ],
                "layout": layout(
                    "Viés agregado do Ensemble por ciclo (previsto / observado − 1)",
                    yaxis={"tickformat": ".0%", "zeroline": True},
                    # a few days either side: one cycle alone would otherwise span milliseconds
                    xaxis={"type": "date", "tickformat": "%d/%m/%Y",
                           "range": [cycles[0]["cycle_date"] - timedelta(days=3),
                                     cycles[-1]["cycle_date"] + timedelta(days=3)]},
                ),
            }
        )  # fmt: skip
    fva_rows = queries.override_value_added(conn)
    return render(
        request,
        "models.html",
        page=page,
        tracking=tracking,
        tracking_rows=TRACKING_ROWS,
        mlflow=base,
        overrides_measured=len([r for r in fva_rows if r["actual_total"] is not None]),
        overrides_total=len(fva_rows),
        charts=charts_json(figures),
    )


# --- Calculadoras ---------------------------------------------------------------------------------


def _num(params: dict[str, str], name: str, default: float) -> float:
    raw = params.get(name, "")
    try:
        return float(raw.replace(",", ".")) if raw else default
    except ValueError as exc:
        raise Invalid(f"{name}: número inválido") from exc


@router.get("/calculadoras", response_class=HTMLResponse)
def calculators_page(request: Request, who: Viewer) -> HTMLResponse:
    p = dict(request.query_params)
    config = request.app.state.config
    form = {
        "mean_daily": _num(p, "mean_daily", 2.0),
        "sigma_daily": _num(p, "sigma_daily", 1.5),
        "lead_time_days": _num(p, "lead_time_days", 15),
        "lead_time_std_days": _num(p, "lead_time_std_days", 3),
        "service_measure": p.get("service_measure") if p.get("service_measure") in {"csl", "fill_rate"} else "csl",
        "service_level": _num(p, "service_level", 0.95),
        "unit_cost": _num(p, "unit_cost", 250),
        "order_cost": _num(p, "order_cost", config.order_cost_brl),
        "selic_percent": _num(p, "selic_percent", 15),
        "holding_rate": _num(p, "holding_rate", config.holding_cost_rate),
        "context_factor": _num(p, "context_factor", 1.0),
    }
    error = None
    try:
        eoq = calculators.eoq(
            form["mean_daily"], form["unit_cost"], form["order_cost"], form["selic_percent"], form["holding_rate"]
        )
        rop = calculators.reorder_point(
            form["mean_daily"],
            form["sigma_daily"],
            form["lead_time_days"],
            form["lead_time_std_days"],
            form["service_measure"],
            form["service_level"],
            eoq.economic_order_quantity or 0.0,
        )
        base = calculators.design_baseline(
            form["mean_daily"], form["sigma_daily"], form["lead_time_days"], form["context_factor"]
        )
    except PlatformError as exc:
        eoq = rop = base = None
        error = str(exc)
    return render(request, "calculators.html", form=form, eoq=eoq, rop=rop, base=base, error=error)


# --- Usuários e auditoria (ADMIN) -----------------------------------------------------------------


@router.get("/usuarios", response_class=HTMLResponse)
def users_page(*, request: Request, who: Admin, conn: Conn) -> HTMLResponse:
    entries, total = audit.entries(conn, limit=100)
    return render(request, "users.html", users=users.list_users(conn), entries=entries, audit_total=total)


@router.post("/usuarios/{username}/ativo")
def user_active_submit(
    *,
    request: Request,
    username: str,
    csrf_token: Annotated[str, Form()] = "",
    active: Annotated[bool, Form()],
    who: Admin,
    conn: Conn,
) -> Response:
    check_csrf(request, who, csrf_token)
    users.set_active(conn, username, active, who.user.username, who.user.user_id, client_address(request))
    return back("/usuarios")
