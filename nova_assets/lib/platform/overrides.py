"""Planner overrides of a material's reorder point or daily forecast, and how the daily cycle applies them.

An override is active for a cycle when it is not cancelled and expires after the cycle's date; a
forecast override replaces the computed daily forecast on the days up to its expiry. The cycle keeps
both values (analytics.reorder_points.computed_*, analytics.forecast_overrides beside the computed
forecasts in analytics.forecasts), so the forecast value added of overrides can be measured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from enum import StrEnum

import numpy as np
import pandas as pd
import psycopg
from psycopg.rows import class_row

from nova_assets.lib.inventory.daily import DailyInputs, forecast_paths
from nova_assets.lib.inventory.policy import days_until, suggested_order
from nova_assets.lib.inventory.reorder import PROJECT_POLICY
from nova_assets.lib.platform import audit, queries
from nova_assets.lib.platform.errors import Invalid, NotFound
from nova_assets.lib.platform.users import User
from nova_assets.lib.sources.erp_limits import ErpLimits
from nova_assets.lib.sources.erp_tables import ERP_TABLES

MAX_REASON = 2000
OVERRIDE_COLUMNS = ["override_id", "material_id", "kind", "value", "expires_on"]


class OverrideKind(StrEnum):
    REORDER_POINT = "reorder_point"  # units
    FORECAST = "forecast"  # units per day


# The largest value a planner may set: the ERP import's plausible upper limit of the quantity the kind
# is counted in (NOVA_ERP_PLAUSIBLE_LIMITS, by default erp_tables.QUANTITY_LIMITS), the project's one figure
# for "no real quantity is this large", not a second number. A reorder point is a stock level in units,
# the unit of erp_stock.on_hand; a daily forecast is a day's issues in units, and a planned day above the
# largest single movement the import accepts (erp_movements.quantity), every day until the expiry, is a
# typo, not a plan. None: the operator removed that limit (`=none`).
_LIMITED_BY = {
    OverrideKind.REORDER_POINT: ("erp_stock", "on_hand"),
    OverrideKind.FORECAST: ("erp_movements", "quantity"),
}
UNITS = {OverrideKind.REORDER_POINT: "unidades", OverrideKind.FORECAST: "unidades por dia"}
Maximum = Mapping[OverrideKind, float | None]


def max_values(limits: ErpLimits | None = None) -> dict[OverrideKind, float | None]:
    """Per kind, the largest value an override may have under the ERP import's `limits` (default: built-in)."""
    limits = ErpLimits() if limits is None else limits
    uppers = {}
    for kind, (table, column) in _LIMITED_BY.items():
        bounds = limits.limits(table, column, ERP_TABLES[table].columns[column])
        uppers[kind] = None if bounds is None else bounds[1]
    return uppers


MAX_VALUE = max_values()  # under the built-in limits: the API schema's documented maximum


def check_value(kind: OverrideKind | str, value: float, maximum: Maximum = MAX_VALUE) -> float:
    """`value` if it is a plausible override of `kind` (at most `maximum`), else Invalid saying why."""
    try:
        kind = OverrideKind(kind)
    except ValueError as exc:
        raise Invalid("tipo deve ser reorder_point ou forecast") from exc
    if not np.isfinite(value) or value < 0:
        raise Invalid("o valor deve ser um número maior ou igual a zero")
    largest = maximum[kind]
    if largest is not None and value > largest:
        limit = f"{largest:,.0f}".replace(",", ".")
        raise Invalid(
            f"o valor de um ajuste {kind.value} não pode passar de {limit} {UNITS[kind]}"
            " (o limite plausível de quantidade da importação do ERP)"
        )
    return float(value)


@dataclass(frozen=True)
class Override:
    override_id: int
    material_id: str
    kind: str
    value: float
    reason: str
    expires_on: date
    created_by: str | None
    created_at: datetime
    cancelled_at: datetime | None
    cancelled_by: str | None


_COLUMNS = (
    "o.override_id, o.material_id, o.kind, o.value, o.reason, o.expires_on, c.username AS created_by,"
    " o.created_at, o.cancelled_at, x.username AS cancelled_by"
)
_FROM = (
    "support.overrides o LEFT JOIN support.users c ON c.user_id = o.created_by"
    " LEFT JOIN support.users x ON x.user_id = o.cancelled_by"
)
_SELECT = f"SELECT {_COLUMNS} FROM {_FROM}"


def _as_dict(item: Override | None) -> dict | None:
    if item is None:
        return None
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in item.__dict__.items()}


def _audit(
    conn: psycopg.Connection, action: str, user: User, address: str | None, before: Override | None, after: Override
) -> None:
    audit.record(
        conn,
        action,
        user_id=user.user_id,
        username=user.username,
        address=address,
        target=f"material:{after.material_id}:{after.kind}",
        before=_as_dict(before),
        after=_as_dict(after),
    )


def get(conn: psycopg.Connection, override_id: int) -> Override:
    found = conn.cursor(row_factory=class_row(Override)).execute(_SELECT + " WHERE o.override_id = %s", (override_id,))
    row = found.fetchone()
    if row is None:
        raise NotFound(f"ajuste {override_id} não existe")
    return row


_NEWEST_FIRST = "o.created_at DESC, o.override_id DESC"


def _where(include_closed: bool) -> str:
    where = ["(%(m)s::text IS NULL OR o.material_id = %(m)s)"]
    if not include_closed:
        where.append("o.cancelled_at IS NULL AND o.expires_on >= current_date")
    return " AND ".join(where)


def listing(conn: psycopg.Connection, material_id: str | None = None, include_closed: bool = False) -> list[Override]:
    """Open overrides (or all), newest first."""
    cur = conn.cursor(row_factory=class_row(Override))
    return cur.execute(
        f"{_SELECT} WHERE {_where(include_closed)} ORDER BY {_NEWEST_FIRST}", {"m": material_id}
    ).fetchall()


def page(
    conn: psycopg.Connection, material_id: str | None, include_closed: bool, paging: queries.Paging
) -> queries.Page:
    """One page of `listing`, newest first, with the total."""
    rows, total = queries.paged(
        conn, _COLUMNS, f"{_FROM} WHERE {_where(include_closed)}", _NEWEST_FIRST, {"m": material_id}, paging
    )
    return queries.Page([asdict(Override(**r)) for r in rows], total, paging.limit, paging.offset)


def create(
    conn: psycopg.Connection,
    user: User,
    material_id: str,
    kind: OverrideKind | str,
    value: float,
    reason: str,
    expires_on: date,
    address: str | None,
    today: date | None = None,
    maximum: Maximum = MAX_VALUE,
) -> Override:
    """Set an override (superseding the open one of the same kind) and audit it, in one transaction;
    `maximum`: the largest values under the import's configured limits (max_values)."""
    value = check_value(kind, value, maximum)
    kind = OverrideKind(kind)
    reason = reason.strip()
    if not reason:
        raise Invalid("o motivo é obrigatório")
    if len(reason) > MAX_REASON:
        raise Invalid(f"motivo com mais de {MAX_REASON} caracteres")
    if expires_on < (today or date.today()):
        raise Invalid("a validade não pode estar no passado")
    with conn.transaction():
        if conn.execute("SELECT 1 FROM core.materials WHERE material_id = %s", (material_id,)).fetchone() is None:
            raise NotFound(f"material {material_id} não existe")
        previous = conn.execute(
            "UPDATE support.overrides SET cancelled_at = clock_timestamp(), cancelled_by = %s"
            " WHERE material_id = %s AND kind = %s AND cancelled_at IS NULL RETURNING override_id",
            (user.user_id, material_id, kind.value),
        ).fetchone()
        before = get(conn, previous[0]) if previous else None
        new_id = conn.execute(
            "INSERT INTO support.overrides (material_id, kind, value, reason, expires_on, created_by)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING override_id",
            (material_id, kind.value, float(value), reason, expires_on, user.user_id),
        ).fetchone()[0]
        after = get(conn, new_id)
        _audit(conn, "override_set", user, address, before, after)
    return after


def cancel(conn: psycopg.Connection, user: User, override_id: int, address: str | None) -> Override:
    with conn.transaction():
        before = get(conn, override_id)
        if before.cancelled_at is not None:
            raise Invalid(f"o ajuste {override_id} já foi cancelado")
        conn.execute(
            "UPDATE support.overrides SET cancelled_at = clock_timestamp(), cancelled_by = %s WHERE override_id = %s",
            (user.user_id, override_id),
        )
        after = get(conn, override_id)
        _audit(conn, "override_cancelled", user, address, before, after)
    return after


# --- what the daily cycle does with them -------------------------------------------------------


def active_for_cycle(conn: psycopg.Connection, cycle_date: date) -> pd.DataFrame:
    """Overrides the cycle of `cycle_date` applies: not cancelled, expiring after the cycle's date."""
    rows = conn.execute(
        "SELECT override_id, material_id, kind, value, expires_on FROM support.overrides"
        " WHERE cancelled_at IS NULL AND expires_on > %s ORDER BY override_id",
        (cycle_date,),
    ).fetchall()
    return pd.DataFrame(rows, columns=OVERRIDE_COLUMNS)


def overridden_forecast(forecast: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """The planner's daily forecast rows (unique_id, ds, forecast, override_id): the override's value on
    each forecast day up to its expiry, for the materials with a forecast override."""
    chosen = overrides[overrides["kind"] == OverrideKind.FORECAST]
    if chosen.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "forecast", "override_id"])
    days = forecast[["unique_id", "ds"]].drop_duplicates()
    merged = days.merge(
        chosen.rename(columns={"material_id": "unique_id"})[["unique_id", "value", "expires_on", "override_id"]],
        on="unique_id",
    )
    merged = merged[pd.to_datetime(merged["ds"]) <= pd.to_datetime(merged["expires_on"])]
    return merged.rename(columns={"value": "forecast"})[["unique_id", "ds", "forecast", "override_id"]].reset_index(
        drop=True
    )


def with_forecast_overrides(forecast: pd.DataFrame, planner: pd.DataFrame) -> pd.DataFrame:
    """`forecast` (unique_id, ds, forecast, ...) with the planner's values where there are any."""
    if planner.empty:
        return forecast
    keyed = forecast.merge(
        planner[["unique_id", "ds", "forecast"]], on=["unique_id", "ds"], how="left", suffixes=("", "_p")
    )
    keyed["forecast"] = keyed["forecast_p"].fillna(keyed["forecast"])
    return keyed.drop(columns="forecast_p")


def apply_overrides(
    inputs: DailyInputs, overrides: pd.DataFrame, compute: Callable[[DailyInputs], pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reorder table the cycle uses and the planner's forecast rows it used, computed values kept.

    `compute(inputs)` is the cycle's reorder table (lib/inventory/daily.reorder_table with the
    cycle's settings). Materials with a forecast override are computed again on the planner's
    forecast (only them: the others' rows stay exactly as computed); then a reorder-point override
    replaces the project policy's reorder point, with the order-up-to level, the suggested order and
    the days until the reorder point that follow from it.
    """
    computed = compute(inputs)
    table = computed.assign(
        computed_reorder_point=computed["reorder_point"],
        computed_mean_daily_demand=computed["mean_daily_demand"],
        reorder_point_override_id=pd.array([pd.NA] * len(computed), dtype="Int64"),
        forecast_override_id=pd.array([pd.NA] * len(computed), dtype="Int64"),
    )
    planner = overridden_forecast(inputs.forecast, overrides)
    used_forecast = with_forecast_overrides(inputs.forecast, planner)
    forecast_ids = planner.groupby("unique_id")["override_id"].first()
    if len(forecast_ids):
        chosen = inputs.materials[inputs.materials["material_id"].isin(forecast_ids.index)]
        planned = compute(replace(inputs, materials=chosen, forecast=used_forecast))
        key = ["material_id", "policy"]
        kept = table[[*key, "computed_reorder_point", "computed_mean_daily_demand", "reorder_point_override_id"]]
        planned = planned.merge(kept, on=key)
        planned["forecast_override_id"] = planned["material_id"].map(forecast_ids).astype("Int64")
        order = table[key].assign(_position=range(len(table)))
        table = pd.concat([table[~table["material_id"].isin(forecast_ids.index)], planned[table.columns]])
        table = table.merge(order, on=key).sort_values("_position").drop(columns="_position").reset_index(drop=True)
    points = overrides[overrides["kind"] == OverrideKind.REORDER_POINT].set_index("material_id")
    rows = (table["policy"] == PROJECT_POLICY) & table["material_id"].isin(points.index)
    if rows.any():
        target = table.loc[rows]
        s = target["material_id"].map(points["value"]).to_numpy(float)
        position = target["stock_position"].to_numpy(float)
        up_to = s + target["order_quantity"].to_numpy(float)
        suggested = suggested_order(s, up_to, position)
        paths = forecast_paths(used_forecast, pd.Index(target["material_id"]))
        table.loc[rows, "reorder_point"] = s
        table.loc[rows, "safety_stock"] = s - target["expected_ltd"].to_numpy(float)
        table.loc[rows, "order_up_to"] = up_to
        table.loc[rows, "suggested_order"] = suggested
        table.loc[rows, "days_until_reorder_point"] = days_until(s, position, paths, np.zeros_like(paths))
        table.loc[rows, "reorder_point_override_id"] = target["material_id"].map(points["override_id"]).to_numpy()
    planner_rows = planner.rename(columns={"unique_id": "material_id", "ds": "forecast_date"})
    return table, planner_rows


def value_added(frame: pd.DataFrame) -> dict[str, float | int]:
    """Forecast value added of the planner over the computed forecast on the same periods.

    `frame` columns: actual, computed, override (one row per material and period). FVA = 1 - MAE of
    the override / MAE of the computed forecast (> 0: the overrides helped)."""
    if frame.empty:
        return {"periods": 0, "mae_computed": float("nan"), "mae_override": float("nan"), "fva": float("nan")}
    mae_c = float((frame["computed"] - frame["actual"]).abs().mean())
    mae_o = float((frame["override"] - frame["actual"]).abs().mean())
    return {
        "periods": len(frame),
        "mae_computed": mae_c,
        "mae_override": mae_o,
        "fva": (1 - mae_o / mae_c) if mae_c > 0 else float("nan"),
    }
