"""Recommendations: each rule fires on its case, with the quantity, the money and the Portuguese
explanation carrying the numbers; nothing is recommended for a healthy material."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.analytics.intervals import residual_intervals
from nova_assets.lib.analytics.recommendations import recommend
from nova_assets.lib.analytics.site_inventory import site_inventory, stockout_probability
from nova_assets.lib.analytics.text import pt_money, pt_number

AS_OF = pd.Timestamp("2025-01-10")

MATERIALS = pd.DataFrame(
    {
        "material_id": ["LOW", "LATE", "SPLIT", "SLOW", "FINE"],
        "description": ["Bateria", "Rádio", "Cabo", "Antena", "Fusível"],
        "unit": ["UN", "UN", "M", "UN", "UN"],
        "unit_cost": [100.0, 1000.0, 10.0, 500.0, 5.0],
        "criticality": ["A", "A", "B", "C", "C"],
        "supplier_id": ["S1"] * 5,
        "supplier_name": ["Fornecedor 1"] * 5,
    }
)


def _points() -> pd.DataFrame:
    # material, on hand, on order, mean daily, lead time, reorder point, order-up-to
    rows = [
        ("LOW", 4, 0, 2.0, 10, 30, 60),
        ("LATE", 3, 10, 1.0, 20, 15, 40),
        ("SPLIT", 400, 0, 1.0, 10, 20, 50),
        ("SLOW", 100, 0, 0.1, 15, 2, 5),
        ("FINE", 50, 0, 1.0, 5, 10, 40),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "material_id",
            "stock_on_hand",
            "on_order",
            "mean_daily_demand",
            "lead_time_days",
            "reorder_point",
            "order_up_to",
        ],
    )
    return frame.assign(stock_position=frame["stock_on_hand"] + frame["on_order"])


def _sites() -> pd.DataFrame:
    return pd.DataFrame({"site_id": ["WH", "T1"], "site_name": ["Almoxarifado", "ERB Feira"]})


def _site_stock() -> pd.DataFrame:
    # FINE: a site with excess but nobody in need (no row may be invented for a receiver)
    return pd.DataFrame(
        {
            "material_id": ["SPLIT", "SPLIT", "FINE", "FINE"],
            "site_id": ["WH", "T1", "WH", "T1"],
            "on_hand": [398.0, 2.0, 45.0, 5.0],
            "mean_daily_demand": [0.5, 0.5, 0.0, 1.0],
            "resupply_days": [10.0, 10.0, 5.0, 5.0],
        }
    )


def _orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "po_id": ["PO-9"],
            "material_id": ["LATE"],
            "quantity": [10.0],
            "expected_date": [AS_OF + pd.Timedelta(days=15)],
        }
    )


@pytest.fixture
def recs() -> pd.DataFrame:
    return recommend(_points(), MATERIALS, _orders(), _site_stock(), _sites(), AS_OF)


def test_buy_now_when_position_is_at_or_below_reorder_point(recs: pd.DataFrame) -> None:
    buy = recs[recs["kind"] == "COMPRAR"].set_index("material_id")
    assert set(buy.index) == {"LOW", "LATE"}
    low = buy.loc["LOW"]
    assert (low["quantity"], low["value_brl"], low["priority"]) == (56, 5600.0, 1)  # 60 - 4; runs out in 2 < 10 days
    assert "Posição de estoque 4" in low["explanation"] and "ponto de pedido 30" in low["explanation"]
    assert "Comprar 56 UN (R$ 5.600,00)" in low["explanation"] and "Urgente" in low["explanation"]
    assert low["evidence"]["cover_days"] == 2.0


def test_expedite_when_the_open_order_arrives_after_stock_runs_out(recs: pd.DataFrame) -> None:
    late = recs[recs["kind"] == "ANTECIPAR"].iloc[0]
    assert (late["material_id"], late["po_id"], late["priority"]) == ("LATE", "PO-9", 1)
    # arrives in 15 days, 3 on hand last 3 days: 12 days short, 12 units x R$ 1.000
    assert late["value_brl"] == 12000.0
    assert (
        "chega em 15 dias (25/01/2025)" in late["explanation"]
        and "antecipação de pelo menos 12 dias" in late["explanation"]
    )


def test_rebalance_from_a_site_with_months_of_cover(recs: pd.DataFrame) -> None:
    move = recs[recs["kind"] == "REMANEJAR"].iloc[0]
    assert (move["material_id"], move["from_site_id"], move["site_id"]) == ("SPLIT", "WH", "T1")
    assert move["quantity"] == 3  # T1 needs 0.5/day x 10 days - 2 on hand
    assert "Almoxarifado tem 398 M (796 dias de cobertura)" in move["explanation"]


def test_reduce_slow_movers(recs: pd.DataFrame) -> None:
    slow = recs[recs["kind"] == "REDUZIR"].set_index("material_id")
    assert set(slow.index) == {"SLOW", "SPLIT"}
    row = slow.loc["SLOW"]
    # keeps max(ceil(0.1 x (15 + 60)), reorder point 2) = 8; excess 92 x R$ 500
    assert (row["quantity"], row["value_brl"], row["priority"]) == (92, 46000.0, 3)
    assert "cobre 1.000 dias de consumo" in row["explanation"]


def test_healthy_material_gets_nothing_and_order_is_by_priority(recs: pd.DataFrame) -> None:
    assert "FINE" not in set(recs["material_id"])
    assert recs["priority"].is_monotonic_increasing
    assert recs["recommendation_id"].is_unique


def test_brazilian_number_format() -> None:
    assert (pt_number(1234.5), pt_number(12.0), pt_number(0.125, 2)) == ("1.234,5", "12", "0,12")
    assert pt_money(1234.5) == "R$ 1.234,50"


def test_stockout_probability_is_compound_poisson() -> None:
    # 9 demand days in 90 (rate 0.1/day) of 2 units; 4 on hand covers 2 events; 10 days of resupply: mean 1 event
    p = stockout_probability(
        np.array([4.0, 0.0, 5.0]), np.array([18.0, 3.0, 0.0]), np.array([9, 3, 0]), np.array([10.0, 10.0, 10.0])
    )
    assert p[0] == pytest.approx(1 - np.exp(-1) * (1 + 1 + 0.5))  # P(N > 2), N ~ Poisson(1)
    assert (p[1], p[2]) == (1.0, 0.0)  # empty with demand; no demand


def test_site_inventory_uses_the_earliest_open_order() -> None:
    days = pd.date_range(AS_OF - pd.Timedelta(days=89), AS_OF, freq="D")
    movements = pd.DataFrame(
        {"movement_date": days, "material_id": "M1", "site_id": "T1", "movement_type": "issue", "quantity": 1.0}
    )
    stock = pd.DataFrame({"snapshot_date": [AS_OF], "material_id": ["M1"], "site_id": ["T1"], "on_hand": [5.0]})
    orders = pd.DataFrame({"material_id": ["M1"], "expected_date": [AS_OF + pd.Timedelta(days=3)]})
    frame = site_inventory(movements, stock, pd.Series({"M1": 20.0}), orders, AS_OF).iloc[0]
    assert (frame["issued_90d"], frame["issued_30d"], frame["demand_days_90d"]) == (90, 30, 90)
    assert (frame["days_of_cover"], frame["resupply_days"]) == (5.0, 3.0)


def test_residual_intervals_come_from_the_models_backtest_errors() -> None:
    backtest = pd.DataFrame(
        {"unique_id": "M1", "ds": range(10), "model": "A", "forecast": 5.0, "y": [1.0, 3, 5, 5, 5, 5, 5, 7, 9, 11]}
    )
    forecast = pd.DataFrame({"unique_id": ["M1", "M2"], "ds": [1, 1], "model": ["A", "A"], "forecast": [2.0, 1.0]})
    out = residual_intervals(forecast, backtest, level=0.8).set_index("unique_id")
    errors = backtest["y"] - 5.0
    assert out.loc["M1", "forecast_lo"] == max(2.0 + errors.quantile(0.1), 0.0)
    assert out.loc["M1", "forecast_hi"] == pytest.approx(2.0 + errors.quantile(0.9))
    assert out.loc["M1", "interval_level"] == 0.8 and np.isnan(out.loc["M2", "forecast_lo"])
