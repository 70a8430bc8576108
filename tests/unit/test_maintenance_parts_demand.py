"""Parts demand from causes: the member's shape, its planned and corrective parts, the plan features."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from nova_assets.lib.forecasting.panel import ADVANCE_DEMAND_COLUMNS
from nova_assets.lib.maintenance.contracts import CORRECTIVE, PREVENTIVE
from nova_assets.lib.maintenance.failure_model import fit_failure_model
from nova_assets.lib.maintenance.parts_demand import (
    FORECAST_COLUMNS,
    INSTALLED_BASE_MODEL,
    causal_parts_forecast,
    known_order_parts,
    order_parts,
    planned_part_lines,
    planned_parts,
    usage_per_order,
)
from tests.unit import maintenance_data
from tests.unit.maintenance_data import END, START

HORIZON = 30


def test_member_has_the_forecast_families_long_format() -> None:
    data = maintenance_data.sample()
    result = causal_parts_forecast(
        maintenance_data.fitted(), data.installed_base, data.work_orders, data.work_order_parts, END, HORIZON
    )
    long = result.long
    assert list(long.columns) == FORECAST_COLUMNS
    assert set(long["model"]) == {INSTALLED_BASE_MODEL}
    assert pd.api.types.is_datetime64_any_dtype(long["ds"])
    days = pd.date_range(pd.Timestamp(END) + pd.Timedelta(days=1), periods=HORIZON)
    assert long.groupby("unique_id")["ds"].apply(lambda d: list(d) == list(days)).all()
    assert (long["forecast"] >= 0).all()
    assert set(long["unique_id"]) == set(data.work_order_parts["material_id"]) - _superseded(data)
    # the known part is the pending orders' reserved lines, all issued within 60 days
    pending = known_order_parts(data.installed_base, data.work_orders, data.work_order_parts, END)
    assert len(pending) > 0 and PREVENTIVE in set(pending["kind"])
    longer = causal_parts_forecast(
        maintenance_data.fitted(), data.installed_base, data.work_orders, data.work_order_parts, END, 60
    )
    assert longer.detail["known_orders"].sum() == pytest.approx(pending["quantity"].sum())
    assert result.detail["known_orders"].sum() < pending["quantity"].sum()
    assert list(result.detail.columns) == ["material_id", "ds", "known_orders", "expected_failures"]


def _superseded(data: maintenance_data.MaintenanceSample) -> set[str]:
    """Predecessors of a supersession the last 10 months no longer consume (not in the usage)."""
    lines = data.work_order_parts.merge(data.work_orders, on="work_order_id")
    return set(data.supersessions["supersedes"]) - set(lines["material_id"])


def test_forecast_from_an_earlier_day_matches_the_parts_then_used() -> None:
    """Fitted up to 90 days before the end, the member's next 60 days against the parts the orders
    really issued then: those of the orders known on the day within 5 %, those of the failures still
    to come within 25 %."""
    data = maintenance_data.sample()
    as_of = pd.Timestamp(END) - pd.Timedelta(days=90)
    last = as_of + pd.Timedelta(days=60)
    model = fit_failure_model(data.installed_base, data.work_orders, maintenance_data.weather(), START, as_of)
    result = causal_parts_forecast(model, data.installed_base, data.work_orders, data.work_order_parts, as_of, 60)
    orders = data.work_orders.assign(
        created_date=pd.to_datetime(data.work_orders["created_date"]),
        completion_date=pd.to_datetime(data.work_orders["completion_date"]),
    )
    issued = orders[(orders["completion_date"] > as_of) & (orders["completion_date"] <= last)]
    known = issued["created_date"] <= as_of
    parts = data.work_order_parts.set_index("work_order_id")["quantity"]
    used_known = parts[parts.index.isin(issued.loc[known, "work_order_id"])].sum()
    used_new = parts[parts.index.isin(issued.loc[~known & (issued["kind"] == CORRECTIVE), "work_order_id"])].sum()
    assert result.detail["known_orders"].sum() == pytest.approx(used_known, rel=0.05)
    assert result.detail["expected_failures"].sum() == pytest.approx(used_new, rel=0.25)


def test_usage_per_order_counts_orders_without_the_part_as_zero() -> None:
    base = pd.DataFrame(
        {
            "equipment_id": ["E1", "E2"],
            "equipment_type": ["RADIO", "RADIO"],
            "model": ["RRU", None],
            "site_id": ["T1", "T1"],
            "install_date": [date(2020, 1, 1), date(2020, 1, 1)],
            "decommission_date": [None, None],
        }
    )
    orders = pd.DataFrame(
        {
            "work_order_id": ["1", "2", "3", "4"],
            "kind": [CORRECTIVE] * 4,
            "equipment_id": ["E1", "E1", "E1", "E2"],
            "site_id": ["T1"] * 4,
            "created_date": [date(2025, 1, d) for d in (1, 2, 3, 4)],
            "planned_date": [None] * 4,
            "failure_date": [date(2025, 1, d) for d in (1, 2, 3, 4)],
            "completion_date": [date(2025, 1, d) for d in (1, 2, 3, 4)],
            "status": ["completed"] * 4,
        }
    )
    parts = pd.DataFrame(
        {"work_order_id": ["1", "2", "4"], "material_id": ["SFP", "SFP", "SFP"], "quantity": [1.0, 3.0, 2.0]}
    )
    usage = usage_per_order(base, orders, parts).set_index("model")
    assert usage.loc["RRU", "orders"] == 3 and usage.loc["RRU", "quantity_per_order"] == pytest.approx(4 / 3)
    assert usage.loc["RADIO", "quantity_per_order"] == 2.0  # no model: the type stands in
    issued = order_parts(orders, parts)
    assert list(issued.columns) == ["material_id", "site_id", "movement_date", "quantity", "work_order_id"]
    assert issued["quantity"].sum() == 6.0


def test_planned_part_lines_are_the_preventive_plan_known_from_each_orders_creation() -> None:
    data = maintenance_data.sample()
    lines = planned_part_lines(data.work_orders, data.work_order_parts)
    assert list(lines.columns) == ADVANCE_DEMAND_COLUMNS
    orders = data.work_orders.set_index("work_order_id")
    preventive = orders[(orders["kind"] == PREVENTIVE) & (orders["status"] != "cancelled")].index
    expected = data.work_order_parts[data.work_order_parts["work_order_id"].isin(preventive)]
    assert len(lines) == len(expected) and lines["quantity"].sum() == pytest.approx(expected["quantity"].sum())
    assert (lines["known_from"] < lines["ds"]).all()  # the plan is known before it is due
    assert lines["known_until"].isna().any() and lines["ds"].max() > pd.Timestamp(END)  # the open plan
    as_of = pd.Timestamp(END)
    known = lines[(lines["known_from"] <= as_of) & ~(lines["known_until"] <= as_of) & (lines["ds"] > as_of)]
    horizon = known[known["ds"] <= as_of + pd.Timedelta(days=30)]
    assert horizon["quantity"].sum() == pytest.approx(
        planned_parts(data.installed_base, data.work_orders, data.work_order_parts, as_of, 30)["quantity"].sum()
    )
