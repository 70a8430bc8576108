"""/api/v1: thin routes over nova_assets.lib.platform. Every route but the health checks needs a token;
lists take filters, `limit`/`offset` (stable order, a total) and `format=csv` (ANALYST+, audited)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

import pandas as pd
import psycopg
from fastapi import APIRouter, Depends, Query, Request, Response

from nova_assets.lib.platform import alert_actions, audit, calculators, overrides, queries, sessions, users
from nova_assets.lib.platform.errors import Forbidden, NotFound
from nova_assets.lib.platform.users import Role
from nova_assets.web.auth import Admin, Analyst, AnyUser, Conn, Principal, Viewer, client_address
from nova_assets.web.schemas import (
    AlertActionIn,
    AlertStatusOut,
    BaselineIn,
    EoqIn,
    HealthOut,
    LoginIn,
    MeOut,
    OverrideIn,
    OverrideOut,
    PageOut,
    ReorderPointIn,
    TokenOut,
    UserActiveIn,
    UserIn,
    UserOut,
)

router = APIRouter(prefix="/api/v1")
Format = Literal["json", "csv"]


def paging(
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50, offset: Annotated[int, Query(ge=0)] = 0
) -> queries.Paging:
    return queries.Paging(limit, offset)


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v, default=str) if isinstance(v, dict | list) else v for k, v in row.items()}
            )
    return out.getvalue()


def respond(
    request: Request, conn: psycopg.Connection, who: Principal, name: str, page: queries.Page, fmt: Format
) -> PageOut | Response:
    """JSON page, or the whole filtered list as CSV (ANALYST and above; every export is audited)."""
    if fmt == "json":
        return PageOut(**asdict(page))
    if not who.user.role.allows(Role.ANALYST):
        raise Forbidden("exportar requer o papel ANALYST")
    audit.record(
        conn,
        "export",
        user_id=who.user.user_id,
        username=who.user.username,
        address=client_address(request),
        target=name,
        detail={"rows": len(page.items), "query": str(request.url.query)},
    )
    filename = f"{name}_{page.cycle_date or date.today()}.csv"
    return Response(
        _csv(page.items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _pages(fmt: Format, pages: queries.Paging) -> queries.Paging:
    return pages.clamp(export=fmt == "csv")


# --- health and sign-in --------------------------------------------------------------------------


def health_report(request: Request) -> HealthOut:
    """Database reachable, last cycle, stale sources, schema and app version (no token needed)."""
    version = request.app.state.config.version
    try:
        with request.app.state.pool.connection(timeout=5) as conn:
            report = queries.health(conn)
    except Exception:  # unreachable or broken: say so, never how
        return HealthOut(status="degraded", database=False, version=version)
    return HealthOut(status="degraded" if report["data_is_stale"] else "ok", database=True, version=version, **report)


@router.get("/health", response_model=HealthOut, tags=["health"])
def health(request: Request) -> HealthOut:
    return health_report(request)


@router.post("/auth/login", response_model=TokenOut, tags=["auth"])
def login(body: LoginIn, request: Request, conn: Conn) -> TokenOut:
    state = request.app.state
    issued = sessions.login(
        conn, state.tokens, body.username, body.password, client_address(request), state.config.login_limits
    )
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at, user=UserOut(**asdict(issued.user)))


@router.post("/auth/logout", status_code=204, tags=["auth"])
def logout(*, request: Request, who: AnyUser, conn: Conn) -> Response:
    sessions.logout(conn, request.app.state.tokens, who.session, client_address(request))
    return Response(status_code=204)


@router.get("/auth/me", response_model=MeOut, tags=["auth"])
def me(who: Viewer) -> MeOut:
    return MeOut(user=UserOut(**asdict(who.user)), expires_at=who.session.expires_at, csrf_token=who.csrf_token)


# --- reads ---------------------------------------------------------------------------------------


@router.get("/kpis", tags=["dashboard"])
def kpis(
    *,
    trend_cycles: Annotated[int, Query(ge=1, le=3650)] = 90,
    who: Viewer,
    conn: Conn,
) -> dict[str, Any]:
    """The latest KPI row (marts.kpi_daily), its trend over cycles, open overrides."""
    return queries.kpis(conn, trend_cycles)


@router.get("/alerts", response_model=PageOut, tags=["alerts"])
def alerts(
    *,
    request: Request,
    cycle_date: date | None = None,
    severity: Annotated[list[str] | None, Query()] = None,
    material_id: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    site_id: Annotated[str | None, Query(max_length=200)] = None,
    state: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=200)] = None,
    criticality: Annotated[str | None, Query(max_length=200)] = None,
    demand_class: Annotated[str | None, Query(max_length=200)] = None,
    status: Literal["open", "acknowledged", "resolved"] | None = None,
    format: Format = "json",
    pages: Annotated[queries.Paging, Depends(paging)],
    who: Viewer,
    conn: Conn,
) -> Any:
    flt = queries.AlertFilter(
        cycle_date, severity, material_id, q, site_id, state, category, criticality, demand_class, status
    )
    return respond(request, conn, who, "alerts", queries.alerts(conn, flt, _pages(format, pages)), format)


@router.post("/alerts/{cycle_date}/{material_id}/{action}", response_model=AlertStatusOut, tags=["alerts"])
def act_on_alert(
    request: Request,
    cycle_date: date,
    material_id: str,
    action: Literal["acknowledge", "resolve"],
    body: AlertActionIn,
    who: Analyst,
    conn: Conn,
) -> AlertStatusOut:
    """Acknowledge or resolve an alert with a comment (ANALYST+; audited with before/after)."""
    status = alert_actions.AlertStatus.ACKNOWLEDGED if action == "acknowledge" else alert_actions.AlertStatus.RESOLVED
    after = alert_actions.act(conn, who.user, cycle_date, material_id, status, body.comment, client_address(request))
    return AlertStatusOut(cycle_date=cycle_date, material_id=material_id, **after)


@router.get("/forecasts", response_model=PageOut, tags=["forecasts"])
def forecasts(
    *,
    request: Request,
    material_id: Annotated[str | None, Query(max_length=200)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    cycle_date: date | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    format: Format = "json",
    pages: Annotated[queries.Paging, Depends(paging)],
    who: Viewer,
    conn: Conn,
) -> Any:
    flt = queries.ForecastFilter(material_id, model, cycle_date, date_from, date_to)
    return respond(request, conn, who, "forecasts", queries.forecasts(conn, flt, _pages(format, pages)), format)


@router.get("/items", response_model=PageOut, tags=["materials"])
def items(
    *,
    request: Request,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=200)] = None,
    format: Format = "json",
    pages: Annotated[queries.Paging, Depends(paging)],
    who: Viewer,
    conn: Conn,
) -> Any:
    """The material catalogue with suppliers and lead times."""
    return respond(request, conn, who, "items", queries.items(conn, q, category, _pages(format, pages)), format)


@router.get("/materials", response_model=PageOut, tags=["materials"])
def materials(
    *,
    request: Request,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=200)] = None,
    criticality: Annotated[str | None, Query(max_length=200)] = None,
    demand_class: Annotated[str | None, Query(max_length=200)] = None,
    severity: Annotated[str | None, Query(max_length=200)] = None,
    abc_class: Annotated[str | None, Query(max_length=200)] = None,
    site_id: Annotated[str | None, Query(max_length=200)] = None,
    format: Format = "json",
    pages: Annotated[queries.Paging, Depends(paging)],
    who: Viewer,
    conn: Conn,
) -> Any:
    """Materials with the latest cycle's reorder point (computed and overridden), stock, alert, segment."""
    flt = queries.MaterialFilter(q, category, criticality, demand_class, severity, abc_class, site_id)
    return respond(request, conn, who, "materials", queries.materials(conn, flt, _pages(format, pages)), format)


@router.get("/materials/{material_id}", tags=["materials"])
def material(*, material_id: str, who: Viewer, conn: Conn) -> dict[str, Any]:
    """A material's page data: demand history, forecasts with their interval, the planner's forecast,
    stock projection against the reorder point, each model's backtest error, sites, orders, overrides."""
    found = queries.material(conn, material_id)
    if found is None:
        raise NotFound(f"material {material_id} não existe")
    found["overrides"] = [asdict(o) for o in overrides.listing(conn, material_id, include_closed=True)]
    return found


@router.get("/clustering/tower-performance", response_model=PageOut, tags=["clusters"])
def tower_performance(
    *,
    request: Request,
    format: Format = "json",
    pages: Annotated[queries.Paging, Depends(paging)],
    who: Viewer,
    conn: Conn,
) -> Any:
    page = queries.tower_clusters(conn, _pages(format, pages))
    return respond(request, conn, who, "tower_clusters", page, format)


@router.get("/clustering/equipment-failure", response_model=PageOut, tags=["clusters"])
def equipment_failure(
    *,
    request: Request,
    format: Format = "json",
    pages: Annotated[queries.Paging, Depends(paging)],
    who: Viewer,
    conn: Conn,
) -> Any:
    """No failure records exist in gold: the note says so; the items are the material consumption clusters."""
    page = queries.material_clusters(conn, _pages(format, pages))
    return respond(request, conn, who, "material_clusters", page, format)


@router.get("/recommendations", response_model=PageOut, tags=["recommendations"])
def recommendations(
    *,
    request: Request,
    cycle_date: date | None = None,
    kind: Annotated[str | None, Query(max_length=200)] = None,
    priority: Annotated[int | None, Query(ge=1, le=4)] = None,
    material_id: Annotated[str | None, Query(max_length=200)] = None,
    site_id: Annotated[str | None, Query(max_length=200)] = None,
    format: Format = "json",
    pages: Annotated[queries.Paging, Depends(paging)],
    who: Viewer,
    conn: Conn,
) -> Any:
    flt = queries.RecommendationFilter(cycle_date, kind, priority, material_id, site_id)
    page = queries.recommendations(conn, flt, _pages(format, pages))
    return respond(request, conn, who, "recommendations", page, format)


@router.get("/geographic/data", response_model=PageOut, tags=["map"])
def geographic(
    *,
    request: Request,
    level: Literal["state", "region"] = "state",
    cycle_date: date | None = None,
    format: Format = "json",
    who: Viewer,
    conn: Conn,
) -> Any:
    """marts.regional_view: the 27 states (level=state) or the regions of Bahia (level=region)."""
    return respond(request, conn, who, f"geographic_{level}", queries.geographic(conn, level, cycle_date), format)


@router.get("/models/performance", response_model=PageOut, tags=["models"])
def models_performance(
    *,
    request: Request,
    cycle_date: date | None = None,
    format: Format = "json",
    who: Viewer,
    conn: Conn,
) -> Any:
    """marts.model_comparison (backtest scores per model, FVA over seasonal naive) with MLflow run ids."""
    page = queries.models_performance(conn, cycle_date)
    base = request.app.state.config.mlflow_ui_url.rstrip("/")
    for row in page.items:
        row["mlflow_run_url"] = f"{base}/#/runs/{row['mlflow_run_id']}" if row.get("mlflow_run_id") else None
    return respond(request, conn, who, "models", page, format)


# --- overrides -----------------------------------------------------------------------------------


@router.get("/overrides", response_model=list[OverrideOut], tags=["overrides"])
def list_overrides(
    *,
    material_id: Annotated[str | None, Query(max_length=200)] = None,
    include_closed: bool = False,
    who: Viewer,
    conn: Conn,
) -> list[OverrideOut]:
    return [OverrideOut(**asdict(o)) for o in overrides.listing(conn, material_id, include_closed)]


@router.post("/overrides", response_model=OverrideOut, status_code=201, tags=["overrides"])
def create_override(
    *,
    request: Request,
    body: OverrideIn,
    who: Analyst,
    conn: Conn,
) -> OverrideOut:
    """Set a material's reorder point or daily forecast until `expires_on`; the next daily cycle uses it."""
    made = overrides.create(
        conn, who.user, body.material_id, body.kind, body.value, body.reason, body.expires_on, client_address(request)
    )
    return OverrideOut(**asdict(made))


@router.delete("/overrides/{override_id}", response_model=OverrideOut, tags=["overrides"])
def cancel_override(
    *,
    request: Request,
    override_id: int,
    who: Analyst,
    conn: Conn,
) -> OverrideOut:
    return OverrideOut(**asdict(overrides.cancel(conn, who.user, override_id, client_address(request))))


@router.get("/overrides/value-added", tags=["overrides"])
def override_value_added(who: Viewer, conn: Conn) -> dict:
    """Forecast value added of the planners' forecast overrides over the computed forecast (30-day sums)."""
    rows = queries.override_value_added(conn)
    known = [r for r in rows if r["actual_total"] is not None]
    frame = pd.DataFrame(
        {
            "actual": [r["actual_total"] for r in known],
            "computed": [r["computed_total"] for r in known],
            "override": [r["override_total"] for r in known],
        }
    )
    summary = overrides.value_added(frame)
    return {"summary": {k: (None if v != v else v) for k, v in summary.items()}, "items": rows}


# --- calculators (read-only: any signed-in user) -------------------------------------------------


@router.post("/calculators/reorder-point", tags=["calculators"])
def calc_reorder_point(body: ReorderPointIn, who: Viewer) -> dict[str, float]:
    """The project policy's safety stock and reorder point for one smooth item (same code as the cycle)."""
    return asdict(calculators.reorder_point(**body.model_dump()))


@router.post("/calculators/eoq", tags=["calculators"])
def calc_eoq(body: EoqIn, who: Viewer) -> dict[str, float | None]:
    return asdict(calculators.eoq(**body.model_dump()))


@router.post("/calculators/design-baseline", tags=["calculators"])
def calc_baseline(body: BaselineIn, who: Viewer) -> dict[str, float]:
    return asdict(calculators.design_baseline(**body.model_dump()))


# --- users and audit (ADMIN) ---------------------------------------------------------------------


@router.get("/users", response_model=list[UserOut], tags=["admin"])
def list_users(who: Admin, conn: Conn) -> list[UserOut]:
    return [UserOut(**asdict(u)) for u in users.list_users(conn)]


@router.post("/users", response_model=UserOut, status_code=201, tags=["admin"])
def add_user(*, request: Request, body: UserIn, who: Admin, conn: Conn) -> UserOut:
    made = users.add_user(
        conn, body.username, body.role, body.password, who.user.username, who.user.user_id, client_address(request)
    )
    return UserOut(**asdict(made))


@router.patch("/users/{username}", response_model=UserOut, tags=["admin"])
def set_user_active(
    *,
    request: Request,
    username: str,
    body: UserActiveIn,
    who: Admin,
    conn: Conn,
) -> UserOut:
    """Enable or disable a user; disabling ends every session of the user at once."""
    after = users.set_active(conn, username, body.active, who.user.username, who.user.user_id, client_address(request))
    return UserOut(**asdict(after))


@router.get("/audit", response_model=PageOut, tags=["admin"])
def audit_log(
    *,
    action: Annotated[str | None, Query(max_length=100)] = None,
    username: Annotated[str | None, Query(max_length=200)] = None,
    pages: Annotated[queries.Paging, Depends(paging)],
    who: Admin,
    conn: Conn,
) -> PageOut:
    rows, total = audit.entries(conn, action=action, username=username, limit=pages.limit, offset=pages.offset)
    return PageOut(items=[asdict(r) for r in rows], total=total, limit=pages.limit, offset=pages.offset)
