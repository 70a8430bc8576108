"""/api/v1: thin routes over nova_assets.lib.platform. Every route but the health checks needs a token;
lists take filters, `limit`/`offset` (stable order, a total) and `format=csv` (ANALYST+, audited)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated, Any, Literal

import pandas as pd
import psycopg
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from nova_assets.lib.platform import alert_actions, audit, calculators, overrides, queries, sessions, users
from nova_assets.lib.platform.errors import Forbidden, Invalid, NotFound
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
    PageOut,
    ReorderPointIn,
    Text,
    TokenOut,
    UserActiveIn,
    UserIn,
    UserOut,
    UserPageOut,
)

router = APIRouter(prefix="/api/v1")
Format = Literal["json", "csv"]


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


@dataclass(frozen=True)
class Listing:
    """What every list route shares: the caller, the connection, the page asked for and the format."""

    request: Request
    who: Principal
    conn: psycopg.Connection
    fmt: Format
    asked: queries.Paging

    @property
    def paging(self) -> queries.Paging:
        return self.asked.clamp(export=self.fmt == "csv")

    def respond(self, name: str, page: queries.Page) -> PageOut | Response:
        """JSON page, or the whole filtered list as CSV (ANALYST and above; every export is audited)."""
        if self.fmt == "json":
            return PageOut(**asdict(page))
        user = self.who.user
        if not user.role.allows(Role.ANALYST):
            raise Forbidden("exportar requer o papel ANALYST")
        audit.record(
            self.conn,
            "export",
            user_id=user.user_id,
            username=user.username,
            address=client_address(self.request),
            target=name,
            detail={"rows": len(page.items), "query": str(self.request.url.query)},
        )
        filename = f"{name}_{page.cycle_date or date.today()}.csv"
        return Response(
            _csv(page.items),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


def page_asked(
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> queries.Paging:
    return queries.Paging(limit, offset)


Asked = Annotated[queries.Paging, Depends(page_asked)]


def listing(request: Request, who: Viewer, conn: Conn, asked: Asked, format: Format = "json") -> Listing:
    return Listing(request, who, conn, format, asked)


ListQuery = Annotated[Listing, Depends(listing)]


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
def login(body: LoginIn, request: Request) -> TokenOut:
    state = request.app.state
    issued = sessions.login(
        state.pool.connection, state.tokens, body.username, body.password, client_address(request),
        state.config.login_limits,
    )  # fmt: skip
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
    ctx: ListQuery,
    cycle_date: date | None = None,
    severity: Annotated[list[str] | None, Query()] = None,
    material_id: Text = None,
    q: Text = None,
    site_id: Text = None,
    state: Text = None,
    category: Text = None,
    criticality: Text = None,
    demand_class: Text = None,
    status: Literal["open", "acknowledged", "resolved"] | None = None,
) -> Any:
    flt = queries.AlertFilter(
        cycle_date, severity, material_id, q, site_id, state, category, criticality, demand_class, status
    )
    return ctx.respond("alerts", ctx.request.app.state.alert_pages.get(ctx.conn, flt, ctx.paging))


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
    ctx: ListQuery,
    material_id: Text = None,
    model: Text = None,
    cycle_date: date | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Any:
    flt = queries.ForecastFilter(material_id, model, cycle_date, date_from, date_to)
    return ctx.respond("forecasts", queries.forecasts(ctx.conn, flt, ctx.paging))


@router.get("/items", response_model=PageOut, tags=["materials"])
def items(*, ctx: ListQuery, q: Text = None, category: Text = None) -> Any:
    """The material catalogue with suppliers and lead times."""
    return ctx.respond("items", queries.items(ctx.conn, q, category, ctx.paging))


@router.get("/materials", response_model=PageOut, tags=["materials"])
def materials(
    *,
    ctx: ListQuery,
    q: Text = None,
    category: Text = None,
    criticality: Text = None,
    demand_class: Text = None,
    severity: Text = None,
    abc_class: Text = None,
    site_id: Text = None,
) -> Any:
    """Materials with the latest cycle's reorder point (computed and overridden), stock, alert, segment."""
    flt = queries.MaterialFilter(q, category, criticality, demand_class, severity, abc_class, site_id)
    return ctx.respond("materials", queries.materials(ctx.conn, flt, ctx.paging))


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
def tower_performance(*, ctx: ListQuery) -> Any:
    return ctx.respond("tower_clusters", queries.tower_clusters(ctx.conn, ctx.paging))


@router.get("/clustering/equipment-failure", response_model=PageOut, tags=["clusters"])
def equipment_failure(*, ctx: ListQuery) -> Any:
    """Failure rate, MTBF and repair parts cost per tower and equipment type, with their cluster."""
    return ctx.respond("equipment_failure_clusters", queries.equipment_failure_clusters(ctx.conn, ctx.paging))


@router.get("/recommendations", response_model=PageOut, tags=["recommendations"])
def recommendations(
    *,
    ctx: ListQuery,
    cycle_date: date | None = None,
    kind: Text = None,
    priority: Annotated[int | None, Query(ge=1, le=4)] = None,
    material_id: Text = None,
    site_id: Text = None,
) -> Any:
    flt = queries.RecommendationFilter(cycle_date, kind, priority, material_id, site_id)
    return ctx.respond("recommendations", queries.recommendations(ctx.conn, flt, ctx.paging))


@router.get("/geographic/data", response_model=PageOut, tags=["map"])
def geographic(*, ctx: ListQuery, level: Literal["state", "region"] = "state", cycle_date: date | None = None) -> Any:
    """marts.regional_view: the 27 states (level=state) or the regions of Bahia (level=region)."""
    return ctx.respond(f"geographic_{level}", queries.geographic(ctx.conn, level, cycle_date, ctx.paging))


@router.get("/models/performance", response_model=PageOut, tags=["models"])
def models_performance(*, ctx: ListQuery, cycle_date: date | None = None) -> Any:
    """marts.model_comparison (backtest scores per model, FVA over seasonal naive) with MLflow run links."""
    page = queries.models_performance(ctx.conn, cycle_date, ctx.paging)
    base = ctx.request.app.state.config.mlflow_ui_url.rstrip("/")
    for row in page.items:
        row["mlflow_run_url"] = f"{base}/#/runs/{row['mlflow_run_id']}" if row.get("mlflow_run_id") else None
    return ctx.respond("models", page)


@router.get("/models/tracking", response_model=PageOut, tags=["models"])
def forecast_tracking(*, ctx: ListQuery) -> Any:
    """marts.forecast_tracking, newest cycle first: each cycle's ensemble forecast against the demand
    observed since (aggregate bias, WAPE, interval coverage), beside the backtest's bias of that cycle."""
    return ctx.respond("forecast_tracking", queries.forecast_tracking(ctx.conn, ctx.paging))


# --- overrides -----------------------------------------------------------------------------------


@router.get("/overrides", response_model=PageOut, tags=["overrides"])
def list_overrides(*, ctx: ListQuery, material_id: Text = None, include_closed: bool = False) -> Any:
    """Open overrides (`include_closed`: also the cancelled and expired ones), newest first."""
    return ctx.respond("overrides", overrides.page(ctx.conn, material_id, include_closed, ctx.paging))


@router.post("/overrides", response_model=overrides.Override, status_code=201, tags=["overrides"])
def create_override(
    *,
    request: Request,
    body: OverrideIn,
    who: Analyst,
    conn: Conn,
) -> overrides.Override:
    """Set a material's reorder point or daily forecast until `expires_on`; the next daily cycle uses it."""
    maximum = request.app.state.config.override_maximum  # the import's limits as configured, not the schema's
    try:
        overrides.check_value(body.kind, body.value, maximum)
    except Invalid as exc:  # a bad field of the body: the 422 a schema check gives
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", "value"), "msg": str(exc), "input": body.value}]
        ) from exc
    address = client_address(request)
    return overrides.create(
        conn, who.user, body.material_id, body.kind, body.value, body.reason, body.expires_on, address, maximum=maximum
    )


@router.delete("/overrides/{override_id}", response_model=overrides.Override, tags=["overrides"])
def cancel_override(
    *,
    request: Request,
    override_id: int,
    who: Analyst,
    conn: Conn,
) -> overrides.Override:
    return overrides.cancel(conn, who.user, override_id, client_address(request))


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
def calc_eoq(body: EoqIn, request: Request, who: Viewer) -> dict[str, float | None]:
    config = request.app.state.config
    inputs = body.model_dump()
    inputs["order_cost"] = config.order_cost_brl if body.order_cost is None else body.order_cost
    inputs["holding_rate"] = config.holding_cost_rate if body.holding_rate is None else body.holding_rate
    return asdict(calculators.eoq(**inputs))


@router.post("/calculators/design-baseline", tags=["calculators"])
def calc_baseline(body: BaselineIn, who: Viewer) -> dict[str, float]:
    return asdict(calculators.design_baseline(**body.model_dump()))


# --- users and audit (ADMIN) ---------------------------------------------------------------------


@router.get("/users", response_model=UserPageOut, tags=["admin"])
def list_users(who: Admin, conn: Conn, asked: Asked) -> UserPageOut:
    found, total = users.listing(conn, asked.limit, asked.offset)
    return UserPageOut(items=[UserOut(**asdict(u)) for u in found], total=total, limit=asked.limit, offset=asked.offset)


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
    username: Text = None,
    who: Admin,
    conn: Conn,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PageOut:
    rows, total = audit.entries(conn, action=action, username=username, limit=limit, offset=offset)
    return PageOut(items=[asdict(r) for r in rows], total=total, limit=limit, offset=offset)
