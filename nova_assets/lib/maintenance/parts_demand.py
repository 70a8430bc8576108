"""Spare-parts demand from its causes: the maintenance plan and the expected failures.

Demand of a material over a horizon = the parts of the orders already in the ERP and not yet done
(the preventive plan and the open corrective orders: advance demand information, known, not
forecast) + the expected failures of the units that use it (failure model) x the parts a failure of
their model consumed per corrective order in the history. Demand is what the movements record: the
issue on the order's completion day, so each order's parts are spread over the days after its planned
(or failure) date with the delays seen in the history, given it was not done by the forecast day.
The result is a forecast member in the forecast families' long format (unique_id, ds, model,
forecast) and the advance demand the global models take as features (planned_part_lines: the parts
of the preventive plan, each known from its order's creation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.panel import ADVANCE_DEMAND_COLUMNS
from nova_assets.lib.maintenance.contracts import CORRECTIVE, PREVENTIVE, typed_installed_base, typed_work_orders
from nova_assets.lib.maintenance.failure_model import FailureModel, expected_failures

INSTALLED_BASE_MODEL = "InstalledBase"  # the member's model name in the long forecast frames
FORECAST_COLUMNS = ["unique_id", "ds", "model", "forecast"]
DETAIL_COLUMNS = ["known_orders", "expected_failures"]
MAX_ISSUE_DELAY_DAYS = 30


@dataclass(frozen=True)
class CausalForecast:
    """The member's rows (FORECAST_COLUMNS) and their split: the parts of orders already in the ERP
    (known_orders) and those of the failures still to come (expected_failures)."""

    long: pd.DataFrame
    detail: pd.DataFrame  # material_id, ds, known_orders, expected_failures


def order_parts(work_orders: pd.DataFrame, work_order_parts: pd.DataFrame) -> pd.DataFrame:
    """Parts issued by completed orders, in the shape of an issue movement: material_id, site_id,
    movement_date (the completion date), quantity, work_order_id. Phase-2 movements are this join."""
    done = typed_work_orders(work_orders).dropna(subset=["completion_date"])
    lines = work_order_parts.merge(done[["work_order_id", "site_id", "completion_date"]], on="work_order_id")
    return lines.rename(columns={"completion_date": "movement_date"})[
        ["material_id", "site_id", "movement_date", "quantity", "work_order_id"]
    ].sort_values(["movement_date", "work_order_id", "material_id"], ignore_index=True)


def usage_per_order(
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    work_order_parts: pd.DataFrame,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Mean quantity of each material per completed order of an equipment model and kind (orders that
    used none of it count as zero): equipment_type, model, kind, material_id, orders, quantity_per_order.
    Only orders completed by `as_of` (all when None) are read."""
    orders = typed_work_orders(work_orders).dropna(subset=["completion_date"])
    if as_of is not None:
        orders = orders[orders["completion_date"] <= pd.Timestamp(as_of)]
    models = _models(installed_base)
    orders = orders.merge(models, on="equipment_id", how="inner")
    counts = orders.groupby(["equipment_type", "model", "kind"]).size().rename("orders").reset_index()
    lines = work_order_parts.merge(orders[["work_order_id", "equipment_type", "model", "kind"]], on="work_order_id")
    totals = lines.groupby(["equipment_type", "model", "kind", "material_id"], as_index=False)["quantity"].sum()
    usage = totals.merge(counts, on=["equipment_type", "model", "kind"])
    usage["quantity_per_order"] = usage["quantity"] / usage["orders"]
    return usage[["equipment_type", "model", "kind", "material_id", "orders", "quantity_per_order"]]


def where_used(
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    work_order_parts: pd.DataFrame,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Which equipment models consume each material, and how much in all (preventive and corrective
    orders completed by `as_of`): material_id, equipment_type, model, quantity."""
    usage = usage_per_order(installed_base, work_orders, work_order_parts, as_of)
    usage = usage.assign(quantity=usage["orders"] * usage["quantity_per_order"])
    return usage.groupby(["material_id", "equipment_type", "model"], as_index=False)["quantity"].sum()


def planned_parts(
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    work_order_parts: pd.DataFrame,
    as_of: pd.Timestamp | str,
    horizon_days: int,
) -> pd.DataFrame:
    """Parts of the preventive orders known on `as_of` (created by then) and planned in the next
    `horizon_days` days: their reserved lines, or their model's usual kit when an order has none.
    Columns: work_order_id, site_id, material_id, date (the planned date), quantity."""
    as_of = pd.Timestamp(as_of)
    plan = _known_plan(work_orders, as_of)
    plan = plan[(plan["planned_date"] > as_of) & (plan["planned_date"] <= as_of + pd.Timedelta(days=horizon_days))]
    reserved = work_order_parts.merge(plan[["work_order_id", "site_id", "planned_date"]], on="work_order_id")
    bare = plan[~plan["work_order_id"].isin(work_order_parts["work_order_id"])].merge(
        _models(installed_base), on="equipment_id", how="inner"
    )
    kits = usage_per_order(installed_base, work_orders, work_order_parts, as_of)
    kits = kits[kits["kind"] == PREVENTIVE]
    from_kits = bare.merge(kits, on=["equipment_type", "model"]).rename(columns={"quantity_per_order": "quantity"})
    columns = ["work_order_id", "site_id", "material_id", "planned_date", "quantity"]
    both = pd.concat([reserved[columns], from_kits[columns]], ignore_index=True)
    return both.rename(columns={"planned_date": "date"}).sort_values(["date", "work_order_id"], ignore_index=True)


def issue_delays(work_orders: pd.DataFrame, as_of: pd.Timestamp | str) -> dict[str, pd.Series]:
    """Per kind, the distribution (delay in days -> probability) of the completion date after the
    planned date (preventive) or the failure date (corrective), over the orders completed by `as_of`
    (delays clipped to +-MAX_ISSUE_DELAY_DAYS; no history: same day)."""
    orders = typed_work_orders(work_orders)
    orders = orders[orders["completion_date"] <= pd.Timestamp(as_of)]
    out = {}
    for kind, anchor in ((PREVENTIVE, "planned_date"), (CORRECTIVE, "failure_date")):
        mine = orders[orders["kind"] == kind]
        delay = (mine["completion_date"] - mine[anchor]).dt.days.dropna()
        delay = delay.clip(-MAX_ISSUE_DELAY_DAYS, MAX_ISSUE_DELAY_DAYS).astype(int)
        out[kind] = delay.value_counts(normalize=True).sort_index() if len(delay) else pd.Series({0: 1.0})
    return out


def known_order_parts(
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    work_order_parts: pd.DataFrame,
    as_of: pd.Timestamp | str,
) -> pd.DataFrame:
    """Parts of the orders known on `as_of` and not done by then: preventive orders created by then
    and open corrective orders (failed by then). Their reserved lines, or for a preventive order
    without lines its model's usual kit. Columns: work_order_id, kind, site_id, material_id, anchor
    (planned or failure date), quantity."""
    as_of = pd.Timestamp(as_of)
    orders = typed_work_orders(work_orders)
    pending = orders["completion_date"].isna() | (orders["completion_date"] > as_of)
    preventive = _known_plan(work_orders, as_of).assign(anchor=lambda f: f["planned_date"])
    corrective = orders[(orders["kind"] == CORRECTIVE) & pending & (orders["failure_date"] <= as_of)]
    known = pd.concat([preventive, corrective.assign(anchor=corrective["failure_date"])], ignore_index=True)
    columns = ["work_order_id", "kind", "site_id", "anchor"]
    reserved = work_order_parts.merge(known[columns], on="work_order_id")
    bare = known[(known["kind"] == PREVENTIVE) & ~known["work_order_id"].isin(work_order_parts["work_order_id"])]
    kits = usage_per_order(installed_base, work_orders, work_order_parts, as_of)
    kits = kits[kits["kind"] == PREVENTIVE].drop(columns="kind")
    from_kits = bare.merge(_models(installed_base), on="equipment_id").merge(kits, on=["equipment_type", "model"])
    from_kits = from_kits.rename(columns={"quantity_per_order": "quantity"})
    out = [*columns, "material_id", "quantity"]
    return pd.concat([reserved[out], from_kits[out]], ignore_index=True)


def causal_parts_forecast(
    model: FailureModel,
    installed_base: pd.DataFrame,
    work_orders: pd.DataFrame,
    work_order_parts: pd.DataFrame,
    as_of: pd.Timestamp | str,
    horizon_days: int,
) -> CausalForecast:
    """Daily issues per material over the `horizon_days` days after `as_of`: the parts of the known
    orders (known_order_parts) on the days they are expected to be done, plus expected failures x
    parts per corrective order of each model, issued after the usual repair delay. Every material a
    model used in the history gets a row for every day (zeros included); units decommissioned in the
    horizon stop failing on their decommission date. Only history up to `as_of` is read."""
    as_of = pd.Timestamp(as_of)
    days = pd.date_range(as_of + pd.Timedelta(days=1), periods=horizon_days, freq="D")
    delays = issue_delays(work_orders, as_of)
    usage = usage_per_order(installed_base, work_orders, work_order_parts, as_of)
    known = known_order_parts(installed_base, work_orders, work_order_parts, as_of)
    known_issues = pd.concat(
        [
            _issued(known[known["kind"] == kind], delays[kind], as_of, conditional=True)
            for kind in (PREVENTIVE, CORRECTIVE)
        ]
    )
    failures = expected_failures(model, installed_base, days[0], days[-1])
    per_model = failures.groupby(["equipment_type", "model", "date"], as_index=False)["expected"].sum()
    per_failure = usage[usage["kind"] == CORRECTIVE]
    parts = per_model.merge(per_failure, on=["equipment_type", "model"])
    parts = parts.assign(anchor=parts["date"], quantity=parts["expected"] * parts["quantity_per_order"])
    future_issues = _issued(parts, delays[CORRECTIVE], as_of, conditional=False)
    materials = np.union1d(usage["material_id"].unique(), known["material_id"].unique())
    grid = pd.MultiIndex.from_product([materials, days], names=["material_id", "date"])
    detail = pd.DataFrame(
        {
            "known_orders": known_issues.groupby(level=[0, 1]).sum().reindex(grid, fill_value=0.0),
            "expected_failures": future_issues.groupby(level=[0, 1]).sum().reindex(grid, fill_value=0.0),
        }
    ).reset_index()
    detail = detail.rename(columns={"date": "ds"})
    long = pd.DataFrame(
        {
            "unique_id": detail["material_id"],
            "ds": detail["ds"],
            "model": INSTALLED_BASE_MODEL,
            "forecast": detail["known_orders"] + detail["expected_failures"],
        }
    )
    return CausalForecast(long=long[FORECAST_COLUMNS], detail=detail[["material_id", "ds", *DETAIL_COLUMNS]])


def _issued(lines: pd.DataFrame, delay: pd.Series, as_of: pd.Timestamp, conditional: bool) -> pd.Series:
    """Quantities (material_id, anchor, quantity) spread over issue dates anchor + delay with the
    delay distribution; `conditional`: the order was not done by `as_of`, so the delays that would
    have put it on or before `as_of` are ruled out (all of it on the next day if none is left).
    Series indexed by (material_id, date)."""
    index = pd.MultiIndex.from_arrays([[], pd.DatetimeIndex([])], names=["material_id", "date"])
    if lines.empty:
        return pd.Series(dtype=float, index=index)
    spread = lines[["material_id", "anchor", "quantity"]].reset_index(drop=True).rename_axis("line").reset_index()
    spread = spread.merge(pd.DataFrame({"delay": delay.index, "p": delay.to_numpy()}), how="cross")
    spread["date"] = spread["anchor"] + pd.to_timedelta(spread["delay"], unit="D")
    if conditional:
        spread = spread[spread["date"] > as_of]
        spread = spread.assign(p=spread["p"] / spread.groupby("line")["p"].transform("sum"))
        lost = lines.reset_index(drop=True).drop(index=spread["line"].unique())
        overdue = lost.assign(date=as_of + pd.Timedelta(days=1), p=1.0)
        spread = pd.concat([spread, overdue], ignore_index=True)
    spread["issued"] = spread["quantity"] * spread["p"]
    return spread.groupby(["material_id", "date"])["issued"].sum()


def planned_part_lines(work_orders: pd.DataFrame, work_order_parts: pd.DataFrame) -> pd.DataFrame:
    """The preventive plan as advance demand for the global models (panel.ADVANCE_DEMAND_COLUMNS): each
    part line of a preventive order, due on its planned date, known from the order's creation and
    pending until its completion. Corrective orders are left out: a failure is not known in advance.
    Orders without part lines add nothing (no bill of materials is guessed here)."""
    plan = typed_work_orders(work_orders)
    plan = plan[(plan["kind"] == PREVENTIVE) & plan["planned_date"].notna()]
    lines = work_order_parts.merge(
        plan[["work_order_id", "planned_date", "created_date", "completion_date"]], on="work_order_id"
    )
    return pd.DataFrame(
        {
            "unique_id": lines["material_id"],
            "ds": lines["planned_date"],
            "known_from": lines["created_date"],
            "known_until": lines["completion_date"],
            "quantity": pd.to_numeric(lines["quantity"]).astype(float),
        }
    )[ADVANCE_DEMAND_COLUMNS]


def _known_plan(work_orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Preventive orders known on `as_of` and not done by then: created by then (an order without a
    creation date counts as known) and not completed by then."""
    orders = typed_work_orders(work_orders)
    plan = orders[(orders["kind"] == PREVENTIVE) & orders["planned_date"].notna()]
    known = plan["created_date"].isna() | (plan["created_date"] <= as_of)
    pending = plan["completion_date"].isna() | (plan["completion_date"] > as_of)
    return plan[known & pending]


def _models(installed_base: pd.DataFrame) -> pd.DataFrame:
    return typed_installed_base(installed_base)[["equipment_id", "equipment_type", "model"]]
