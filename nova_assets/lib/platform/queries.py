"""Read models over gold for the API and the dashboard: filters, paging with a stable order and a total.

Every value is a bound parameter; the SQL text is fixed per query (filters are `%(x)s IS NULL OR
...` clauses), so no input ever becomes SQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from nova_assets.lib.forecasting.ensemble import ENSEMBLE_MODEL
from nova_assets.lib.inventory.alerts import MOST_SEVERE_FIRST
from nova_assets.lib.sources.erp_store import ErpProvenance

MAX_PAGE = 500
MAX_EXPORT_ROWS = 200_000


@dataclass
class Page:
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    cycle_date: date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Paging:
    limit: int = 50
    offset: int = 0

    def clamp(self, export: bool = False) -> Paging:
        if export:
            return Paging(MAX_EXPORT_ROWS, 0)
        return Paging(min(max(self.limit, 1), MAX_PAGE), max(self.offset, 0))


WHOLE = Paging(MAX_PAGE, 0)  # a short fixed list (27 states, a dozen models) read whole by the dashboard


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    """Infinite or NaN figures (e.g. 'days until stock-out' of an item without demand) become None: JSON has no inf."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def _rows(conn: psycopg.Connection, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [_finite(r) for r in conn.cursor(row_factory=dict_row).execute(query, params).fetchall()]


def _one(conn: psycopg.Connection, query: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
    row = conn.cursor(row_factory=dict_row).execute(query, params or {}).fetchone()
    return None if row is None else _finite(row)


def like(text: str | None) -> str | None:
    """A LIKE pattern matching `text` anywhere, its wildcards escaped (None stays None)."""
    if text is None or not text.strip():
        return None
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def latest_cycle(conn: psycopg.Connection, table: str = "analytics.alerts") -> date | None:
    tables = {
        "analytics.alerts": "SELECT max(cycle_date) AS d FROM analytics.alerts",
        "analytics.forecasts": "SELECT max(cycle_date) AS d FROM analytics.forecasts",
        "analytics.recommendations": "SELECT max(cycle_date) AS d FROM analytics.recommendations",
        "analytics.tower_clusters": "SELECT max(cycle_date) AS d FROM analytics.tower_clusters",
        "analytics.material_segments": "SELECT max(cycle_date) AS d FROM analytics.material_segments",
        "analytics.model_performance": "SELECT max(cycle_date) AS d FROM analytics.model_performance",
        "analytics.equipment_failure_clusters": "SELECT max(cycle_date) AS d FROM analytics.equipment_failure_clusters",
    }
    return _one(conn, tables[table])["d"]


def paged(
    conn: psycopg.Connection, select: str, where: str, order: str, params: dict[str, Any], paging: Paging
) -> tuple[list[dict[str, Any]], int]:
    """One page of `SELECT select FROM where ORDER BY order` (`order` must be unique: a stable order) and the
    total of rows `where` matches."""
    total = conn.execute(f"SELECT count(*) FROM {where}", params).fetchone()[0]
    rows = _rows(
        conn,
        f"SELECT {select} FROM {where} ORDER BY {order} LIMIT %(_limit)s OFFSET %(_offset)s",
        {**params, "_limit": paging.limit, "_offset": paging.offset},
    )
    return rows, total


# --- KPIs and health -----------------------------------------------------------------------------


def kpis(conn: psycopg.Connection, trend_cycles: int = 90) -> dict[str, Any]:
    """The latest KPI row of marts.kpi_daily and the trend of the last `trend_cycles` cycles."""
    trend = _rows(
        conn,
        "SELECT * FROM (SELECT * FROM marts.kpi_daily ORDER BY cycle_date DESC LIMIT %(n)s) t ORDER BY cycle_date",
        {"n": trend_cycles},
    )
    latest = trend[-1] if trend else None
    overrides = _one(
        conn,
        "SELECT count(*) FILTER (WHERE kind = 'reorder_point') AS reorder_point,"
        " count(*) FILTER (WHERE kind = 'forecast') AS forecast FROM support.overrides"
        " WHERE cancelled_at IS NULL AND expires_on >= current_date",
    )
    return {"latest": latest, "trend": trend, "open_overrides": overrides}


def data_provenance(conn: psycopg.Connection) -> DataProvenance | None:
    """What the latest cycle's gold rows are built from; None before a cycle has loaded it, or while the
    table is not there to read (a gold layer not yet migrated, a role without the grant)."""
    try:
        with conn.transaction():  # a savepoint: the caller's other queries go on after a failure
            row = _one(
                conn,
                "SELECT cycle_date, erp_files, erp_sample_files, erp_unrecorded_files, landing_is_sample,"
                " description FROM analytics.data_provenance ORDER BY cycle_date DESC LIMIT 1",
            )
    except (psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege):
        return None
    if row is None:
        return None
    erp = ErpProvenance(row["erp_files"], row["erp_sample_files"], row["erp_unrecorded_files"])
    return DataProvenance(row["cycle_date"], erp, row["landing_is_sample"], row["description"])


@dataclass(frozen=True)
class DataProvenance:
    """analytics.data_provenance's row of a cycle."""

    cycle_date: date
    erp: ErpProvenance
    landing_is_sample: bool
    description: str

    @property
    def synthetic_share(self) -> tuple[int, int] | None:
        """What the pages showing these rows must say (ErpProvenance.synthetic_share)."""
        return self.erp.synthetic_share(self.landing_is_sample)


def health(conn: psycopg.Connection) -> dict[str, Any]:
    """Last cycle, staleness of its data, schema version and the latest loads."""
    cycle = _one(
        conn,
        "SELECT cycle_date, max(data_as_of) AS data_as_of, bool_or(is_stale) AS is_stale,"
        " max(stale_warning) AS stale_warning FROM analytics.alerts"
        " WHERE cycle_date = (SELECT max(cycle_date) FROM analytics.alerts) GROUP BY cycle_date",
    )
    version = _one(conn, "SELECT max(version) AS v FROM support.schema_migrations")["v"]
    failed = _one(
        conn,
        "SELECT count(*) AS n FROM support.load_audit WHERE status = 'failed'"
        " AND started_at > now() - interval '1 day'",
    )["n"]
    last_load = _one(conn, "SELECT max(finished_at) AS at FROM support.load_audit WHERE status = 'committed'")["at"]
    data = data_provenance(conn)
    return {
        "last_cycle_date": cycle["cycle_date"] if cycle else None,
        "data_as_of": cycle["data_as_of"] if cycle else None,
        "data_is_stale": bool(cycle and cycle["is_stale"]),
        "stale_sources": (cycle["stale_warning"] or None) if cycle else None,
        "schema_version": version,
        "last_load_at": last_load,
        "failed_loads_last_day": failed,
        "data": data.description if data else None,
        "synthetic": data.synthetic_share is not None if data else None,
    }


# --- alerts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertFilter:
    cycle_date: date | None = None
    severity: list[str] = field(default_factory=list)
    material_id: str | None = None
    q: str | None = None
    site_id: str | None = None
    state: str | None = None
    category: str | None = None
    criticality: str | None = None
    demand_class: str | None = None
    status: str | None = None  # open | acknowledged | resolved


_ALERT_FROM = """
    analytics.alerts a
    JOIN core.materials m USING (material_id)
    LEFT JOIN core.sites s ON s.site_id = a.site_id
    LEFT JOIN analytics.reorder_points r
        ON r.cycle_date = a.cycle_date AND r.material_id = a.material_id AND r.policy = 'project'
    LEFT JOIN (
        SELECT DISTINCT ON (x.material_id) x.material_id, x.status, x.comment, x.at, u.username
        FROM support.alert_actions x JOIN support.users u USING (user_id)
        WHERE x.cycle_date = %(cycle)s
        ORDER BY x.material_id, x.at DESC, x.action_id DESC
    ) act ON act.material_id = a.material_id
    WHERE a.cycle_date = %(cycle)s
      AND (cardinality(%(severity)s::text[]) = 0 OR a.severity = ANY(%(severity)s::text[]))
      AND (%(material)s::text IS NULL OR a.material_id = %(material)s)
      AND (%(q)s::text IS NULL OR a.material_id ILIKE %(q)s OR m.description ILIKE %(q)s)
      AND (%(site)s::text IS NULL OR a.site_id = %(site)s)
      AND (%(state)s::text IS NULL OR s.state = upper(%(state)s))
      AND (%(category)s::text IS NULL OR m.category = %(category)s)
      AND (%(criticality)s::text IS NULL OR m.criticality = upper(%(criticality)s))
      AND (%(demand_class)s::text IS NULL OR r.demand_class = %(demand_class)s)
      AND (%(status)s::text IS NULL OR coalesce(act.status, 'open') = %(status)s)
"""

_ALERT_SELECT = """
    a.cycle_date, a.material_id, m.description, m.category, m.criticality, a.severity, a.message, a.action,
    a.detail, a.order_quantity, a.stock_position, a.reorder_point, r.computed_reorder_point,
    r.reorder_point_override_id, r.demand_class, a.days_until_stockout, a.days_until_reorder_point,
    a.lead_time_days, a.site_id, s.site_name, s.state, a.data_as_of, a.is_stale, a.stale_warning,
    coalesce(act.status, 'open') AS status, act.comment AS status_comment, act.username AS status_by,
    act.at AS status_at
"""


def alerts(conn: psycopg.Connection, flt: AlertFilter, paging: Paging) -> Page:
    cycle = flt.cycle_date or latest_cycle(conn)
    params = {
        "cycle": cycle,
        "severities": list(MOST_SEVERE_FIRST),
        "severity": [s for s in flt.severity or [] if s],
        "material": flt.material_id or None,
        "q": like(flt.q),
        "site": flt.site_id or None,
        "state": flt.state or None,
        "category": flt.category or None,
        "criticality": flt.criticality or None,
        "demand_class": flt.demand_class or None,
        "status": flt.status or None,
    }
    order = "array_position(%(severities)s::text[], a.severity), a.days_until_stockout ASC NULLS LAST, a.material_id"
    # The page's keys first (the planner drops the joins no filter uses), then the details of those rows only.
    keys, total = paged(conn, "a.material_id", _ALERT_FROM, order, params, paging)
    rows = _rows(
        conn,
        f"SELECT {_ALERT_SELECT} FROM {_ALERT_FROM} AND a.material_id = ANY(%(_keys)s::text[]) ORDER BY {order}",
        {**params, "_keys": [k["material_id"] for k in keys]},
    )
    return Page(rows, total, paging.limit, paging.offset, cycle)


def alert_counts(conn: psycopg.Connection, cycle: date | None) -> dict[str, int]:
    rows = conn.execute(
        "SELECT severity, count(*) FROM analytics.alerts WHERE cycle_date = %s GROUP BY severity", (cycle,)
    ).fetchall()
    counts = dict.fromkeys(MOST_SEVERE_FIRST, 0)
    counts.update(dict(rows))
    return counts


# --- materials, items, forecasts -----------------------------------------------------------------


def items(conn: psycopg.Connection, q: str | None, category: str | None, paging: Paging) -> Page:
    """The material catalogue (core.materials) with its supplier."""
    params = {"q": like(q), "category": category or None}
    where = """core.materials m JOIN core.suppliers p USING (supplier_id)
        WHERE (%(q)s::text IS NULL OR m.material_id ILIKE %(q)s OR m.description ILIKE %(q)s)
          AND (%(category)s::text IS NULL OR m.category = %(category)s)"""
    select = (
        "m.material_id, m.description, m.category, m.unit, m.unit_cost, m.criticality, m.supplier_id,"
        " p.supplier_name, p.lead_time_mean_days, p.lead_time_std_days"
    )
    rows, total = paged(conn, select, where, "m.material_id", params, paging)
    return Page(rows, total, paging.limit, paging.offset)


@dataclass(frozen=True)
class MaterialFilter:
    q: str | None = None
    category: str | None = None
    criticality: str | None = None
    demand_class: str | None = None
    severity: str | None = None
    abc_class: str | None = None
    site_id: str | None = None


def materials(conn: psycopg.Connection, flt: MaterialFilter, paging: Paging) -> Page:
    """Materials with their latest reorder point, stock, alert and segment."""
    cycle = latest_cycle(conn)
    params = {
        "cycle": cycle,
        "q": like(flt.q),
        "category": flt.category or None,
        "criticality": flt.criticality or None,
        "demand_class": flt.demand_class or None,
        "severity": flt.severity or None,
        "abc": flt.abc_class or None,
        "site": flt.site_id or None,
    }
    where = """core.materials m
        LEFT JOIN analytics.reorder_points r
            ON r.cycle_date = %(cycle)s AND r.material_id = m.material_id AND r.policy = 'project'
        LEFT JOIN analytics.alerts a ON a.cycle_date = %(cycle)s AND a.material_id = m.material_id
        LEFT JOIN analytics.material_segments g
            ON g.cycle_date = (SELECT max(cycle_date) FROM analytics.material_segments)
           AND g.material_id = m.material_id
        WHERE (%(q)s::text IS NULL OR m.material_id ILIKE %(q)s OR m.description ILIKE %(q)s)
          AND (%(category)s::text IS NULL OR m.category = %(category)s)
          AND (%(criticality)s::text IS NULL OR m.criticality = upper(%(criticality)s))
          AND (%(demand_class)s::text IS NULL OR r.demand_class = %(demand_class)s)
          AND (%(severity)s::text IS NULL OR a.severity = %(severity)s)
          AND (%(abc)s::text IS NULL OR g.abc_class = upper(%(abc)s))
          AND (%(site)s::text IS NULL OR a.site_id = %(site)s)"""
    select = """m.material_id, m.description, m.category, m.unit, m.unit_cost, m.criticality,
        r.demand_class, r.stock_on_hand, r.stock_position, r.reorder_point, r.computed_reorder_point,
        r.mean_daily_demand, r.computed_mean_daily_demand, r.suggested_order, a.severity,
        g.abc_class, g.xyz_class, g.cluster_id"""
    rows, total = paged(conn, select, where, "m.material_id", params, paging)
    return Page(rows, total, paging.limit, paging.offset, cycle)


@dataclass(frozen=True)
class ForecastFilter:
    material_id: str | None = None
    model: str | None = None
    cycle_date: date | None = None
    date_from: date | None = None
    date_to: date | None = None


def forecasts(conn: psycopg.Connection, flt: ForecastFilter, paging: Paging) -> Page:
    cycle = flt.cycle_date or latest_cycle(conn, "analytics.forecasts")
    params = {
        "cycle": cycle,
        "material": flt.material_id or None,
        "model": flt.model or None,
        "from": flt.date_from,
        "to": flt.date_to,
    }
    where = """analytics.forecasts f WHERE f.cycle_date = %(cycle)s
        AND (%(material)s::text IS NULL OR f.material_id = %(material)s)
        AND (%(model)s::text IS NULL OR f.model = %(model)s)
        AND (%(from)s::date IS NULL OR f.forecast_date >= %(from)s)
        AND (%(to)s::date IS NULL OR f.forecast_date <= %(to)s)"""
    select = "f.cycle_date, f.material_id, f.model, f.forecast_date, f.forecast, f.forecast_lo, f.forecast_hi,"
    select += " f.interval_level"
    rows, total = paged(conn, select, where, "f.material_id, f.model, f.forecast_date", params, paging)
    return Page(rows, total, paging.limit, paging.offset, cycle)


def material(conn: psycopg.Connection, material_id: str) -> dict[str, Any] | None:
    """Everything the material page shows, in one call (a handful of indexed queries)."""
    head = _one(
        conn,
        "SELECT m.*, p.supplier_name, p.lead_time_mean_days, p.lead_time_std_days FROM core.materials m"
        " JOIN core.suppliers p USING (supplier_id) WHERE m.material_id = %(m)s",
        {"m": material_id},
    )
    if head is None:
        return None
    p = {"m": material_id}
    cycle = _one(conn, "SELECT max(cycle_date) AS d FROM analytics.reorder_points WHERE material_id = %(m)s", p)["d"]
    p["cycle"] = cycle
    points = _rows(
        conn,
        "SELECT * FROM analytics.reorder_points WHERE cycle_date = %(cycle)s AND material_id = %(m)s ORDER BY policy",
        p,
    )
    alert = _one(
        conn,
        "SELECT a.*, s.site_name, s.state FROM analytics.alerts a LEFT JOIN core.sites s USING (site_id)"
        " WHERE a.cycle_date = %(cycle)s AND a.material_id = %(m)s",
        p,
    )
    fc_cycle = _one(conn, "SELECT max(cycle_date) AS d FROM analytics.forecasts WHERE material_id = %(m)s", p)["d"]
    forecast = _rows(
        conn,
        "SELECT model, forecast_date, forecast, forecast_lo, forecast_hi, interval_level FROM analytics.forecasts"
        " WHERE cycle_date = %(c)s AND material_id = %(m)s ORDER BY model, forecast_date",
        {"c": fc_cycle, "m": material_id},
    )
    planner = _rows(
        conn,
        "SELECT forecast_date, forecast, override_id FROM analytics.forecast_overrides"
        " WHERE cycle_date = %(c)s AND material_id = %(m)s ORDER BY forecast_date",
        {"c": fc_cycle, "m": material_id},
    )
    history = _rows(
        conn,
        "SELECT demand_date, demand FROM analytics.demand_history WHERE material_id = %(m)s"
        " AND cycle_date = (SELECT max(cycle_date) FROM analytics.demand_history WHERE material_id = %(m)s)"
        " ORDER BY demand_date",
        p,
    )
    errors = _rows(
        conn,
        "SELECT model, mae, rmse, bias, n_points FROM analytics.material_model_errors WHERE material_id = %(m)s"
        " AND cycle_date = (SELECT max(cycle_date) FROM analytics.material_model_errors WHERE material_id = %(m)s)"
        " ORDER BY mae NULLS LAST, model",
        p,
    )
    sites = _rows(
        conn,
        "SELECT i.site_id, s.site_name, s.state, i.on_hand, i.issued_30d, i.issued_90d, i.days_of_cover,"
        " i.stockout_probability FROM analytics.site_inventory i JOIN core.sites s USING (site_id)"
        " WHERE i.material_id = %(m)s AND i.cycle_date = (SELECT max(cycle_date) FROM analytics.site_inventory"
        " WHERE material_id = %(m)s) ORDER BY i.stockout_probability DESC, i.site_id",
        p,
    )
    orders = _rows(
        conn,
        "SELECT po_id, quantity, order_date, expected_date FROM analytics.open_orders"
        " WHERE cycle_date = %(cycle)s AND material_id = %(m)s ORDER BY expected_date, po_id",
        p,
    )
    recommendations = _rows(
        conn,
        "SELECT recommendation_id, kind, priority, title, explanation, quantity, value_brl, site_id"
        " FROM analytics.recommendations WHERE material_id = %(m)s AND cycle_date ="
        " (SELECT max(cycle_date) FROM analytics.recommendations) ORDER BY priority, value_brl DESC",
        p,
    )
    project = next((r for r in points if r["policy"] == "project"), None)
    ensemble = [r for r in forecast if r["model"] == ENSEMBLE_MODEL]
    return {
        "material": head,
        "cycle_date": cycle,
        "reorder_points": points,
        "alert": alert,
        "forecast_cycle_date": fc_cycle,
        "forecasts": forecast,
        "planner_forecast": planner,
        "demand_history": history,
        "model_errors": errors,
        "sites": sites,
        "open_orders": orders,
        "recommendations": recommendations,
        "projection": stock_projection(project, ensemble, planner, orders),
    }


def stock_projection(
    point: dict[str, Any] | None,
    ensemble: list[dict[str, Any]],
    planner: list[dict[str, Any]],
    orders: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Day by day at the forecast the cycle used (the planner's where set): the inventory position (on hand +
    on order - demand so far), which the reorder point is compared with, and the stock on hand with the
    open orders received on their expected dates."""
    if point is None or not ensemble:
        return []
    used = {r["forecast_date"]: r["forecast"] for r in ensemble}
    used.update({r["forecast_date"]: r["forecast"] for r in planner})
    on_hand = float(point["stock_on_hand"])
    position = float(point["stock_position"])
    receipts: dict[date, float] = {}
    for order in orders:
        receipts[order["expected_date"]] = receipts.get(order["expected_date"], 0.0) + float(order["quantity"])
    first = min(used)
    late = sum(q for d, q in receipts.items() if d < first)  # overdue orders: counted on the first day
    out = []
    for day in sorted(used):
        # stock on hand cannot go below zero: demand beyond it is backordered (the position keeps it)
        on_hand = max(on_hand + receipts.get(day, 0.0) + (late if day == first else 0.0) - float(used[day]), 0.0)
        position -= float(used[day])
        out.append(
            {
                "date": day,
                "projected_position": position,
                "projected_on_hand": on_hand,
                "reorder_point": float(point["reorder_point"]),
            }
        )
    return out


# --- recommendations, clusters, map, models ------------------------------------------------------


@dataclass(frozen=True)
class RecommendationFilter:
    cycle_date: date | None = None
    kind: str | None = None
    priority: int | None = None
    material_id: str | None = None
    site_id: str | None = None


def recommendations(conn: psycopg.Connection, flt: RecommendationFilter, paging: Paging) -> Page:
    cycle = flt.cycle_date or latest_cycle(conn, "analytics.recommendations")
    params = {
        "cycle": cycle,
        "kind": flt.kind or None,
        "priority": flt.priority,
        "material": flt.material_id or None,
        "site": flt.site_id or None,
    }
    where = """analytics.recommendations r JOIN core.materials m USING (material_id)
        WHERE r.cycle_date = %(cycle)s
          AND (%(kind)s::text IS NULL OR r.kind = upper(%(kind)s))
          AND (%(priority)s::int IS NULL OR r.priority = %(priority)s)
          AND (%(material)s::text IS NULL OR r.material_id = %(material)s)
          AND (%(site)s::text IS NULL OR r.site_id = %(site)s OR r.from_site_id = %(site)s)"""
    select = """r.cycle_date, r.recommendation_id, r.material_id, m.description, r.kind, r.priority, r.site_id,
        r.from_site_id, r.po_id, r.quantity, r.value_brl, r.title, r.explanation, r.evidence"""
    rows, total = paged(conn, select, where, "r.priority, r.value_brl DESC, r.recommendation_id", params, paging)
    return Page(rows, total, paging.limit, paging.offset, cycle)


def tower_clusters(conn: psycopg.Connection, paging: Paging) -> Page:
    cycle = latest_cycle(conn, "analytics.tower_clusters")
    params = {"cycle": cycle}
    where = """analytics.tower_clusters t JOIN core.sites s USING (site_id)
        LEFT JOIN analytics.cluster_profiles p
            ON p.cycle_date = t.cycle_date AND p.entity = 'tower' AND p.cluster_id = t.cluster_id
        WHERE t.cycle_date = %(cycle)s"""
    select = """t.site_id, s.site_name, s.state, s.region_code, t.cluster_id, p.label, t.daily_issue_events,
        t.daily_value_brl, t.active_day_share, t.cv_weekly, t.rain_lift, t.trend_ratio, t.distinct_materials"""
    rows, total = paged(conn, select, where, "t.cluster_id, t.site_id", params, paging)
    page = Page(rows, total, paging.limit, paging.offset, cycle)
    if not total:
        page.note = "o ouro ainda não tem clusters de torres (rode o ciclo diário)"
    return page


def cluster_profiles(conn: psycopg.Connection, entity: str) -> list[dict[str, Any]]:
    return _rows(
        conn,
        "SELECT cluster_id, label, size, k, method, score, centroid FROM analytics.cluster_profiles"
        " WHERE entity = %(e)s AND cycle_date = (SELECT max(cycle_date) FROM analytics.cluster_profiles"
        " WHERE entity = %(e)s) ORDER BY cluster_id",
        {"e": entity},
    )


def equipment_failure_clusters(conn: psycopg.Connection, paging: Paging) -> Page:
    """The cycle's failure clusters per tower and equipment type (analytics.equipment_failure_clusters),
    the most failure-prone cluster first."""
    cycle = latest_cycle(conn, "analytics.equipment_failure_clusters")
    params = {"cycle": cycle}
    where = """analytics.equipment_failure_clusters f JOIN core.sites s USING (site_id)
        WHERE f.cycle_date = %(cycle)s"""
    select = """f.site_id, s.site_name, s.state, f.equipment_type, f.units, f.mean_age_years, f.failures,
        f.failure_rate_per_year, f.relative_failure_rate, f.mtbf_days, f.repair_parts_cost_brl,
        f.repair_cost_per_unit_year_brl, f.cluster, f.clustering_method"""
    order = "f.cluster DESC NULLS LAST, f.relative_failure_rate DESC NULLS LAST, f.site_id, f.equipment_type"
    rows, total = paged(conn, select, where, order, params, paging)
    page = Page(rows, total, paging.limit, paging.offset, cycle)
    if not total:
        page.note = "o ouro ainda não tem clusters de falha (sem ordens de manutenção no ERP, ou rode o ciclo diário)"
    return page


def obsolescence(conn: psycopg.Connection) -> dict[str, Any] | None:
    """The latest obsolescence KPI (analytics.obsolescence_kpi) and its parts at risk, largest first."""
    kpi = _one(conn, "SELECT * FROM analytics.obsolescence_kpi ORDER BY cycle_date DESC LIMIT 1")
    if not kpi:
        return None
    kpi["items"] = _rows(
        conn,
        "SELECT r.material_id, m.description, r.status, r.last_service_date, r.on_hand, r.remaining_demand,"
        " r.excess_units, r.obsolescence_risk_brl FROM analytics.obsolescence_risk r JOIN core.materials m"
        " USING (material_id) WHERE r.cycle_date = %(cycle)s ORDER BY r.obsolescence_risk_brl DESC",
        {"cycle": kpi["cycle_date"]},
    )
    return kpi


def abc_xyz(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return _rows(
        conn,
        "SELECT abc_class, xyz_class, count(*) AS materials, sum(annual_value_brl) AS annual_value_brl"
        " FROM analytics.material_segments WHERE cycle_date = (SELECT max(cycle_date) FROM analytics.material_segments)"
        " GROUP BY abc_class, xyz_class ORDER BY abc_class, xyz_class",
        {},
    )


def geographic(
    conn: psycopg.Connection, level: str = "state", cycle_date: date | None = None, paging: Paging = WHOLE
) -> Page:
    """marts.regional_view of one cycle: every state (level 'state') or the regions of Bahia ('region'),
    one page of them (the dashboard's map asks for all: `WHOLE`)."""
    cycle = cycle_date or _one(conn, "SELECT max(cycle_date) AS d FROM marts.regional_view")["d"]
    where = """marts.regional_view v JOIN core.regions r ON r.region_code = v.state_code
        WHERE v.cycle_date = %(cycle)s AND v.level = %(level)s"""
    # (cycle_date, level, region_code) is the mart's key: region_code alone orders one cycle's level
    rows, total = paged(conn, "v.*, r.macro_region", where, "v.region_code", {"cycle": cycle, "level": level}, paging)
    return Page(rows, total, paging.limit, paging.offset, cycle)


def models_performance(conn: psycopg.Connection, cycle_date: date | None = None, paging: Paging = WHOLE) -> Page:
    """marts.model_comparison of one cycle, best RMSSE first, one page of it (the dashboard asks for all)."""
    cycle = cycle_date or _one(conn, "SELECT max(cycle_date) AS d FROM marts.model_comparison")["d"]
    where = "marts.model_comparison WHERE cycle_date = %(cycle)s"
    # (cycle_date, model) is the mart's key: model breaks the rank's ties
    rows, total = paged(conn, "*", where, "rmsse_rank, model", {"cycle": cycle}, paging)
    return Page(rows, total, paging.limit, paging.offset, cycle)


def forecast_tracking(conn: psycopg.Connection, paging: Paging = WHOLE) -> Page:
    """marts.forecast_tracking, newest cycle first: how each cycle's ensemble forecast did on the days
    observed since (empty with a note before a second cycle, or before the mart is built)."""
    try:
        with conn.transaction():  # a savepoint: the caller's other queries go on after a failure
            rows, total = paged(conn, "*", "marts.forecast_tracking", "cycle_date DESC", {}, paging)
    except psycopg.errors.UndefinedTable:
        rows, total = [], 0
    page = Page(rows, total, paging.limit, paging.offset, rows[0]["cycle_date"] if rows else None)
    if not total:
        page.note = "nenhum ciclo com dias já observados: o acompanhamento começa no ciclo seguinte"
    return page


def override_value_added(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Per overridden material and cycle: the planner's and the computed forecast summed over the next 30
    days, and what was issued over those days (the 30-day site issues of the cycle 30 days later), when known."""
    return _rows(
        conn,
        """
        WITH planner AS (
            SELECT cycle_date, material_id, override_id, sum(forecast) AS override_total
            FROM analytics.forecast_overrides WHERE forecast_date <= cycle_date + %(days)s
            GROUP BY cycle_date, material_id, override_id
        ), computed AS (
            SELECT f.cycle_date, f.material_id, sum(f.forecast) AS computed_total
            FROM analytics.forecasts f JOIN planner p USING (cycle_date, material_id)
            WHERE f.model = %(ensemble)s AND f.forecast_date <= f.cycle_date + %(days)s
            GROUP BY f.cycle_date, f.material_id
        ), actual AS (
            SELECT cycle_date, material_id, sum(issued_30d) AS actual_total
            FROM analytics.site_inventory GROUP BY cycle_date, material_id
        )
        SELECT p.cycle_date, p.material_id, p.override_id, p.override_total, c.computed_total, a.actual_total
        FROM planner p JOIN computed c USING (cycle_date, material_id)
        LEFT JOIN actual a ON a.material_id = p.material_id AND a.cycle_date = p.cycle_date + %(days)s
        ORDER BY p.cycle_date, p.material_id
        """,
        {"days": 30, "ensemble": ENSEMBLE_MODEL},
    )
