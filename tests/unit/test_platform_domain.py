"""The platform's domain code without a database: overrides applied to a reorder table, the calculators
(the cycle's own inventory functions), forecast value added, the material page's projections."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pydantic
import pytest
from scipy import stats

from nova_assets.lib.inventory.daily import DailyInputs
from nova_assets.lib.platform import calculators, overrides, queries
from nova_assets.lib.platform.errors import Invalid
from nova_assets.lib.platform.material_page import model_errors, recent_demand
from nova_assets.lib.sources.erp_limits import ErpLimits, parse_limits
from nova_assets.lib.sources.erp_tables import QUANTITY_LIMITS
from nova_assets.web.schemas import OverrideIn, ReorderPointIn

CYCLE = date(2025, 11, 9)
IDS = ["M1", "M2", "M3"]


def _inputs(horizon: int = 10) -> DailyInputs:
    days = pd.date_range(CYCLE + timedelta(days=1), periods=horizon, freq="D")
    forecast = pd.DataFrame(
        [(m, d, level) for m, level in zip(IDS, (1.0, 2.0, 3.0), strict=True) for d in days],
        columns=["unique_id", "ds", "forecast"],
    )
    empty = pd.DataFrame()
    materials = pd.DataFrame({"material_id": IDS, "unit_cost": 10.0})
    return DailyInputs(CYCLE, empty, forecast, empty, materials, empty, empty, empty, 10.0)


def _compute(inputs: DailyInputs) -> pd.DataFrame:
    """A stand-in policy: reorder point = 10 x the mean forecast, for both policies."""
    mean = inputs.forecast.groupby("unique_id")["forecast"].mean()
    rows = []
    for material in inputs.materials["material_id"]:
        for policy, factor in (("project", 1.0), ("baseline_design", 1.5)):
            d = float(mean.get(material, 0.0))
            rows.append(
                {
                    "material_id": material,
                    "policy": policy,
                    "mean_daily_demand": d,
                    "expected_ltd": 8 * d,
                    "safety_stock": 2 * d * factor,
                    "reorder_point": 10 * d * factor,
                    "order_quantity": 5.0,
                    "order_up_to": 10 * d * factor + 5,
                    "stock_position": 12.0,
                    "suggested_order": 0.0,
                    "days_until_reorder_point": 1.0,
                }
            )
    return pd.DataFrame(rows)


def _overrides(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=overrides.OVERRIDE_COLUMNS)


def test_no_override_leaves_the_computed_table_and_copies_the_computed_values() -> None:
    table, planner = overrides.apply_overrides(_inputs(), _overrides(), _compute)
    computed = _compute(_inputs())
    pd.testing.assert_frame_equal(table[computed.columns], computed)
    assert (table["computed_reorder_point"] == table["reorder_point"]).all()
    assert table["reorder_point_override_id"].isna().all() and planner.empty


def test_forecast_and_reorder_point_overrides_keep_the_computed_values_beside_them() -> None:
    expires = CYCLE + timedelta(days=5)  # the planner's forecast holds for 5 of the 10 days
    active = _overrides((7, "M2", "forecast", 8.0, expires), (9, "M3", "reorder_point", 100.0, CYCLE + timedelta(30)))
    table, planner = overrides.apply_overrides(_inputs(), active, _compute)
    by = table.set_index(["material_id", "policy"])
    assert list(table["material_id"]) == ["M1", "M1", "M2", "M2", "M3", "M3"]  # order kept
    # M2: recomputed on 5 days at 8 and 5 days at the computed 2
    assert by.loc[("M2", "project"), "mean_daily_demand"] == pytest.approx(5.0)
    assert by.loc[("M2", "project"), "computed_mean_daily_demand"] == pytest.approx(2.0)
    assert by.loc[("M2", "project"), "reorder_point"] == pytest.approx(50.0)
    assert by.loc[("M2", "project"), "computed_reorder_point"] == pytest.approx(20.0)
    assert by.loc[("M2", "baseline_design"), "forecast_override_id"] == 7
    assert len(planner) == 5 and set(planner["forecast"]) == {8.0} and set(planner["override_id"]) == {7}
    assert planner["forecast_date"].max() == pd.Timestamp(expires)
    # M3: the project policy's point replaced; order-up-to, order and days follow; the baseline untouched
    point = by.loc[("M3", "project")]
    assert point["reorder_point"] == 100.0 and point["computed_reorder_point"] == pytest.approx(30.0)
    assert point["order_up_to"] == 105.0 and point["suggested_order"] == 105.0 - 12.0
    assert point["safety_stock"] == pytest.approx(100.0 - 24.0) and point["days_until_reorder_point"] == 0.0
    assert point["reorder_point_override_id"] == 9
    assert by.loc[("M3", "baseline_design"), "reorder_point"] == pytest.approx(45.0)
    # M1 untouched
    assert by.loc[("M1", "project"), "reorder_point"] == pytest.approx(10.0)
    assert pd.isna(by.loc[("M1", "project"), "forecast_override_id"])


def test_an_override_of_an_unknown_material_is_ignored() -> None:
    table, planner = overrides.apply_overrides(
        _inputs(), _overrides((1, "GONE", "forecast", 3.0, CYCLE + timedelta(9))), _compute
    )
    assert planner.empty and table["forecast_override_id"].isna().all()


def test_value_added_compares_override_and_computed_errors() -> None:
    frame = pd.DataFrame({"actual": [10.0, 20.0], "computed": [14.0, 14.0], "override": [11.0, 18.0]})
    fva = overrides.value_added(frame)
    assert fva == {"periods": 2, "mae_computed": 5.0, "mae_override": 1.5, "fva": pytest.approx(0.7)}
    assert overrides.value_added(frame.iloc[:0])["periods"] == 0


def test_calculators_are_the_cycle_formulas() -> None:
    rop = calculators.reorder_point(2.0, 1.0, 9.0, 2.0, "csl", 0.98, 0.0)
    sigma = np.sqrt(10 * 1.0**2 + 2.0**2 * 2.0**2)  # sqrt(P sigma_d^2 + d^2 sigma_L^2), P = L + review
    assert rop.sigma_lead_time_demand == pytest.approx(sigma)
    assert rop.reorder_point == pytest.approx(20 + stats.norm.ppf(0.98) * sigma)
    fill = calculators.reorder_point(2.0, 1.0, 9.0, 0.0, "fill_rate", 0.95, 50.0)
    assert 20 <= fill.reorder_point < rop.reorder_point
    eoq = calculators.eoq(2.0, 100.0, 150.0, 15.0, 0.10)
    assert eoq.economic_order_quantity == pytest.approx(np.sqrt(2 * 730 * 150 / (100 * 0.25)))
    assert calculators.eoq(2.0, 0.0, 150.0, 15.0, 0.10).economic_order_quantity is None
    base = calculators.design_baseline(2.0, 1.0, 9.0, 1.2)
    assert base.safety_stock == pytest.approx(1.65 * 1.0 * 3.0 * 1.2)
    with pytest.raises(Invalid):
        calculators.reorder_point(2.0, 1.0, 9.0, 0.0, "csl", 1.2, 0.0)


def test_an_override_value_is_capped_at_the_erp_imports_plausible_quantity() -> None:
    cap = QUANTITY_LIMITS[1]  # the import's one limit, not a second number
    for kind in overrides.OverrideKind:
        assert overrides.MAX_VALUE[kind] == cap
        assert overrides.check_value(kind, cap) == cap and overrides.check_value(kind.value, 0) == 0.0
        for wrong in (cap * 1.001, 1e300, float("inf"), float("nan"), -1.0):
            with pytest.raises(Invalid):
                overrides.check_value(kind, wrong)
    body = {"material_id": "M1", "reason": "obra", "expires_on": "2030-01-01"}
    assert OverrideIn(**body, kind="forecast", value=cap).value == cap
    for wrong in (float("inf"), float("nan"), -1.0):  # the schema refuses what no limit allows
        with pytest.raises(pydantic.ValidationError):
            OverrideIn(**body, kind="forecast", value=wrong)


def test_an_override_cap_follows_the_imports_configured_limits() -> None:
    """NOVA_ERP_PLAUSIBLE_LIMITS moves the import's limits, and the overrides' with them: a reorder point
    by erp_stock.on_hand, a daily forecast by erp_movements.quantity; `none` lifts the cap."""
    limits = ErpLimits(plausible_limits=parse_limits("erp_movements.quantity=..5000; erp_stock.on_hand=none"))
    maximum = overrides.max_values(limits)
    assert maximum == {overrides.OverrideKind.FORECAST: 5000.0, overrides.OverrideKind.REORDER_POINT: None}
    assert overrides.check_value("reorder_point", 5e6, maximum) == 5e6
    with pytest.raises(Invalid, match=r"não pode passar de 5\.000 unidades por dia"):
        overrides.check_value("forecast", 5001, maximum)


def test_a_fill_rate_target_needs_an_order_quantity() -> None:
    # with no lot the loss function asked for no shortage at all: a silent ~6-sigma safety stock
    with pytest.raises(Invalid, match="order_quantity > 0"):
        calculators.reorder_point(2.0, 1.0, 9.0, 0.0, "fill_rate", 0.95, 0.0)
    inputs = {"mean_daily": 2, "sigma_daily": 1, "lead_time_days": 9, "service_measure": "fill_rate"}
    with pytest.raises(pydantic.ValidationError, match="fill_rate precisa de order_quantity > 0"):
        ReorderPointIn(**inputs)
    with pytest.raises(pydantic.ValidationError, match="order_quantity > 0"):
        ReorderPointIn(**inputs, order_quantity=0)
    sized = ReorderPointIn(**inputs, order_quantity=10)
    fill = calculators.reorder_point(**sized.model_dump())
    assert 0 < fill.safety_stock < 3 * fill.sigma_lead_time_demand  # not the ~6 sigma of a lot of nothing
    assert ReorderPointIn(mean_daily=2, sigma_daily=1, lead_time_days=9).order_quantity == 0  # CSL needs none


def test_like_escapes_wildcards_and_projection_tracks_position_and_stock() -> None:
    assert queries.like(" 50%_a\\b ") == "%50\\%\\_a\\\\b%" and queries.like("  ") is None
    days = [CYCLE + timedelta(days=d) for d in range(1, 5)]
    point = {"stock_on_hand": 3.0, "stock_position": 8.0, "reorder_point": 6.0}
    ensemble = [{"forecast_date": d, "forecast": 2.0} for d in days]
    planner = [{"forecast_date": days[0], "forecast": 1.0}]
    orders = [{"expected_date": days[2], "quantity": 5.0}]
    rows = queries.stock_projection(point, ensemble, planner, orders)
    assert [r["projected_position"] for r in rows] == [7.0, 5.0, 3.0, 1.0]
    assert [r["projected_on_hand"] for r in rows] == [2.0, 0.0, 3.0, 1.0]  # floored at 0, receipt on day 3


def test_material_page_rows() -> None:
    history = pd.DataFrame(
        {"unique_id": "M1", "ds": pd.date_range("2025-01-01", periods=200, freq="D"), "y": np.arange(200.0)}
    )
    recent = recent_demand(history, days=30)
    assert len(recent) == 30 and recent["demand"].iloc[-1] == 199.0
    backtest = pd.DataFrame(
        {"unique_id": "M1", "model": ["A", "A", "B"], "y": [1.0, 3.0, 2.0], "forecast": [2.0, 1.0, 2.0]}
    )
    errors = model_errors(backtest).set_index("model")
    assert errors.loc["A", "mae"] == 1.5 and errors.loc["A", "bias"] == pytest.approx(-0.5)
    assert errors.loc["A", "rmse"] == pytest.approx(np.sqrt(2.5)) and errors.loc["B", "n_points"] == 1
