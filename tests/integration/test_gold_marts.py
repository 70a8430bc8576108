"""The dbt-postgres marts (dbt_project/gold) on a small hand-made gold layer: the build and its
dbt tests pass, and the KPI, supplier, SLA, regional and model figures equal hand-computed ones."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from nova_assets.lib.gold.connection import dbt_environment
from nova_assets.lib.gold.loader import replace_cycle, upsert
from nova_assets.lib.gold.purchase_orders import link_receipts, load_lines
from nova_assets.lib.gold.regions import resolve_site_regions
from nova_assets.lib.gold.schema import migrate
from nova_assets.lib.platform import queries
from nova_assets.lib.platform.material_page import DEMAND_HISTORY_DAYS
from tests.integration.conftest import fresh_database

dbt_main = pytest.importorskip("dbt.cli.main")

GOLD_DBT = Path(__file__).resolve().parents[2] / "dbt_project" / "gold"
C1, C2 = dt.date(2025, 1, 10), dt.date(2025, 1, 11)
# forecast_tracking: the demand history of a cycle 35 days after C2 observes every day of C1's and
# C2's forecasts; a cycle 10 days before it has 10 of its 30 days observed.
HISTORY_CYCLE = C2 + dt.timedelta(days=35)
PARTIAL_CYCLE = HISTORY_CYCLE - dt.timedelta(days=10)
TRACKED_LEVELS = {C1: 4.0, C2: 2.0, PARTIAL_CYCLE: 1.0}  # M1's daily ensemble forecast of each cycle
TRACKING_WARNING = "forecast_tracking_bias_within_tolerance"  # the sample's C1 and C2 are beyond it
SHORT_CYCLE = PARTIAL_CYCLE + dt.timedelta(days=5)  # a 3-day forecast, exact, complete before the partial one


def m1_demand(day: dt.date) -> float:
    """M1's observed daily demand in forecast_tracking's history: 3, and 6 on every tenth day."""
    return 6.0 if day.toordinal() % 10 == 0 else 3.0


def _frame(columns: str, rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns.split())


def _load_forecasts(conn: psycopg.Connection, cycle: dt.date, rows: list[tuple]) -> None:
    """A cycle's analytics.forecasts rows: (material, date, model, forecast, low, high, interval level)."""
    columns = "material_id forecast_date model forecast forecast_lo forecast_hi interval_level"
    replace_cycle(conn, "analytics.forecasts", cycle, _frame(columns, rows))


def _reorder_points(m1_on_hand: float) -> pd.DataFrame:
    rows = []
    for policy, rp_factor in (("project", 1.0), ("baseline_design", 1.5)):
        for material, on_hand, on_order, mean, rp in (
            ("M1", m1_on_hand, 5.0, 2.0, 30.0),
            ("M2", 50.0, 0.0, 1.0, 10.0),
            ("M3", 100.0, 0.0, 0.0, 0.0),
            ("M4", 3.0, 2.0, 0.5, 5.0),
        ):
            rows.append(
                (
                    material,
                    policy,
                    mean,
                    1.0,
                    10.0,
                    1.0,
                    rp * rp_factor,
                    rp * 2,
                    on_hand,
                    on_order,
                    on_hand + on_order,
                    None,
                    None,
                )
            )
    return _frame(
        "material_id policy mean_daily_demand sigma_daily_demand lead_time_days safety_stock reorder_point"
        " order_up_to stock_on_hand on_order stock_position days_until_stockout days_until_reorder_point",
        rows,
    )


def _alerts(severities: dict[str, str], cycle: dt.date) -> pd.DataFrame:
    return _frame(
        "material_id severity message action order_quantity stock_position reorder_point data_as_of is_stale",
        [(m, s, "msg", "acao", 0.0, 1.0, 1.0, cycle, False) for m, s in severities.items()],
    )


def load_sample_gold(conn: psycopg.Connection) -> None:
    """Two cycles of a 4-material, 3-site business; the expected figures are in the tests below."""
    migrate(conn)
    upsert(
        conn,
        "core.suppliers",
        _frame(
            "supplier_id supplier_name lead_time_mean_days lead_time_std_days",
            [("S1", "Fornecedor 1", 10.0, 2.0), ("S2", "Fornecedor 2", 20.0, 5.0)],
        ),
        ["supplier_id"],
    )
    upsert(
        conn,
        "core.materials",
        _frame(
            "material_id description category unit unit_cost criticality supplier_id",
            [
                ("M1", "Bateria", "Batteries", "UN", 100.0, "A", "S1"),
                ("M2", "Cabo", "RF", "M", 10.0, "B", "S1"),
                ("M3", "Conector", "RF", "UN", 1.0, "C", "S2"),
                ("M4", "Rádio", "Radio", "UN", 1000.0, "A", "S2"),
            ],
        ),
        ["material_id"],
    )
    sites = _frame(
        "site_id site_name site_type region state municipality ibge_code latitude longitude sla_penalty_brl_day",
        [
            (
                "WH",
                "Almoxarifado",
                "warehouse",
                "Região Metropolitana de Salvador",
                "BA",
                "Salvador",
                "2927408",
                -12.9,
                -38.5,
                0.0,
            ),
            ("T1", "ERB Feira", "tower", "Portal do Sertão", "BA", "Feira de Santana", "2910800", -12.2, -38.9, 1000.0),
            ("T2", "ERB Jequié", "tower", "Centro-Sul", "BA", "Jequié", "2918001", -13.8, -40.0, 2000.0),
        ],
    )
    sites, new_regions = resolve_site_regions(conn, sites)
    upsert(conn, "core.regions", new_regions, ["region_code"])
    upsert(conn, "core.sites", sites, ["site_id"])

    for cycle, m1 in ((C1, 2.0), (C2, 0.0)):
        replace_cycle(conn, "analytics.reorder_points", cycle, _reorder_points(m1))
    replace_cycle(conn, "analytics.alerts", C1, _alerts({"M1": "ALTO", "M2": "OK", "M3": "OK", "M4": "OK"}, C1))
    replace_cycle(conn, "analytics.alerts", C2, _alerts({"M1": "CRÍTICO", "M2": "OK", "M3": "OK", "M4": "ALTO"}, C2))
    for cycle, ensemble in ((C1, 0.75), (C2, 0.7)):
        replace_cycle(
            conn,
            "analytics.model_performance",
            cycle,
            _frame(
                "model family mase rmsse bias total_demand_error n_series mlflow_run_id",
                [
                    ("SeasonalNaive", "baseline", 1.2, 1.0, 0.0, 0.1, 4, "run-b"),
                    ("CrostonSBA", "intermittent", 1.0, 0.8, 0.0, 0.1, 4, "run-i"),
                    ("Ensemble", "ensemble", 0.9, ensemble, ensemble - 0.8, 0.1, 4, "run-e"),  # bias -5 %, -10 %
                    # scored on 1 of the ensemble's 4 series: lower RMSSE, but not comparable
                    ("InstalledBase", "installed_base", 0.5, 0.3, 0.0, 0.1, 1, "run-ib"),
                ],
            ),
        )
    for cycle, level in TRACKED_LEVELS.items():
        days = [cycle + dt.timedelta(days=d) for d in range(1, 31)]
        _load_forecasts(
            conn,
            cycle,
            [("M1", d, "Ensemble", level, 0.0, 2 * level, 0.8) for d in days]
            + [("M1", d, "CrostonSBA", 100.0, None, None, None) for d in days],
        )
    short = [SHORT_CYCLE + dt.timedelta(days=d) for d in range(1, 4)]
    _load_forecasts(conn, SHORT_CYCLE, [("M1", d, "Ensemble", m1_demand(d), None, None, None) for d in short])
    days = [HISTORY_CYCLE - dt.timedelta(days=d) for d in range(DEMAND_HISTORY_DAYS)]
    replace_cycle(
        conn,
        "analytics.demand_history",
        HISTORY_CYCLE,
        _frame(
            "material_id demand_date demand",
            [(m, d, m1_demand(d) if m == "M1" else 1.0) for m in ("M1", "M2") for d in days],
        ),
    )
    replace_cycle(
        conn,
        "analytics.site_inventory",
        C2,
        _frame(
            "material_id site_id on_hand issued_30d issued_90d received_90d demand_days_90d mean_daily_demand"
            " days_of_cover resupply_days stockout_probability",
            [
                ("M1", "T1", 0.0, 20.0, 60.0, 50.0, 30, 1.0, 0.0, 10.0, 1.0),
                ("M1", "WH", 5.0, 10.0, 30.0, 30.0, 20, 1.0, 5.0, 10.0, 0.4),
                ("M2", "T1", 50.0, 30.0, 90.0, 90.0, 60, 1.0, 50.0, 10.0, 0.0),
                ("M3", "T2", 100.0, 0.0, 0.0, 0.0, 0, 0.0, None, 20.0, 0.0),
                ("M4", "T2", 1.0, 3.0, 9.0, 10.0, 5, 0.1, 10.0, 20.0, 0.6),
            ],
        ),
    )
    orders = "po_id material_id supplier_id quantity order_date expected_date"
    replace_cycle(
        conn,
        "analytics.open_orders",
        C1,
        _frame(
            orders,
            [
                ("PO1", "M1", "S1", 5.0, dt.date(2025, 1, 1), dt.date(2025, 1, 11)),
                ("PO2", "M4", "S2", 2.0, dt.date(2024, 12, 20), dt.date(2025, 1, 5)),
                ("PO3", "M2", "S1", 10.0, dt.date(2025, 1, 5), dt.date(2025, 1, 20)),
            ],
        ),
    )
    replace_cycle(
        conn,
        "analytics.open_orders",
        C2,
        _frame(
            orders,
            [  # PO1 left the list: received on C2
                ("PO2", "M4", "S2", 2.0, dt.date(2024, 12, 20), dt.date(2025, 1, 5)),
                ("PO3", "M2", "S1", 10.0, dt.date(2025, 1, 5), dt.date(2025, 1, 20)),
            ],
        ),
    )
    backtest = (
        "policy segment freq items fill_rate cycle_service_level stockout_periods avg_on_hand avg_inventory_value"
    )
    replace_cycle(
        conn,
        "analytics.policy_backtest",
        C2,
        _frame(
            backtest + " orders",
            [
                ("project", "all", "D", 4, 0.97, 0.9, 3, 10.0, 9000.0, 12),
                ("baseline_design", "all", "D", 4, 0.95, 0.9, 5, 12.0, 12000.0, 10),
                ("project", "A", "D", 2, 0.5, 0.5, 9, 1.0, 1.0, 1),
            ],
        ),
    )  # a segment row, not to be added in
    conn.commit()


def dbt_build(
    url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    select: str | None = None,
    full_refresh: bool = False,
    **variables: str,
) -> list[tuple]:
    for name, value in dbt_environment(url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args = [
        "build",
        "--project-dir",
        str(GOLD_DBT),
        "--profiles-dir",
        str(GOLD_DBT),
        "--target-path",
        str(tmp_path / "target"),
        "--log-path",
        str(tmp_path / "logs"),
        "--quiet",
    ]
    if variables:
        args += ["--vars", json.dumps(variables)]
    if select:
        args += ["--select", select]
    if full_refresh:
        args.append("--full-refresh")
    result = dbt_main.dbtRunner().invoke(args)
    assert result.exception is None, result.exception
    statuses = [(r.node.unique_id, str(r.status), r.message) for r in (result.result or [])]
    assert result.success, [s for s in statuses if s[1] not in ("success", "pass")]
    return statuses


@pytest.fixture(scope="module")
def marts(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    url = fresh_database(postgres_server, "nova_gold_marts_test")
    with psycopg.connect(url) as conn:
        load_sample_gold(conn)
    with pytest.MonkeyPatch.context() as monkeypatch:
        statuses = dbt_build(url, tmp_path_factory.mktemp("dbt_gold"), monkeypatch)
    return {"url": url, "statuses": statuses}


def hand_made_purchase_orders() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ERP's PO lines and movements (lake shape) behind test_supplier_performance_from_po_receipts."""
    d = dt.date
    orders = _frame(
        "po_id material_id supplier_id site_id quantity order_date promised_date",
        [
            ("PO10", "M1", "S1", "WH", 5.0, d(2025, 1, 1), d(2025, 1, 11)),  # received 01-09 (8 d), on time
            ("PO11", "M2", "S1", "T1", 10.0, d(2024, 12, 1), d(2024, 12, 11)),  # received 12-21 (20 d), late
            ("PO12", "M1", "S1", None, 5.0, d(2025, 1, 5), d(2025, 1, 20)),  # open, not due yet: not counted
            ("PO13", "M2", None, None, 4.0, d(2024, 12, 20), d(2025, 1, 2)),  # no supplier: M2's (S1); open, late
            ("PO14", "M1", "S1", "WH", 5.0, d(2024, 8, 1), d(2024, 8, 11)),  # received 08-21 (20 d), late
            ("PO20", "M3", "S2", "T2", 100.0, d(2024, 12, 1), d(2024, 12, 21)),  # received 12-21 (20 d), on time
            ("PO20", "M4", "S2", "T2", 2.0, d(2024, 12, 1), d(2024, 12, 21)),  # received 12-28 (27 d), late
            ("PO21", "M4", "S2", "T2", 1.0, d(2024, 12, 15), d(2025, 1, 10)),  # receipt after the cycle: open, late
        ],
    )
    movements = _frame(
        "movement_date material_id site_id movement_type quantity po_id",
        [
            (d(2025, 1, 10), "M1", "WH", "receipt", 2.0, "PO10"),
            (d(2025, 1, 9), "M1", "WH", "receipt", 3.0, "PO10"),  # the first receipt dates the line
            (d(2024, 12, 21), "M2", "T1", "receipt", 10.0, "PO11"),
            (d(2024, 8, 21), "M1", "WH", "receipt", 5.0, "PO14"),
            (d(2024, 12, 21), "M3", "T2", "receipt", 100.0, "PO20"),
            (d(2024, 12, 28), "M4", "T2", "receipt", 2.0, "PO20"),
            (d(2025, 1, 15), "M4", "T2", "receipt", 1.0, "PO21"),  # after the cycle's date
            (d(2025, 1, 3), "M1", "WH", "receipt", 7.0, None),  # a receipt naming no PO
            (d(2025, 1, 4), "M2", "T1", "receipt", 1.0, "PO99"),  # a PO not exported
            (d(2025, 1, 4), "M1", "T1", "issue", 1.0, None),
        ],
    )
    return orders, movements


@pytest.fixture(scope="module")
def linked_marts(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The sample gold plus the ERP's PO lines linked to their receipts, as of C2."""
    url = fresh_database(postgres_server, "nova_gold_marts_po_test")
    with psycopg.connect(url) as conn:
        load_sample_gold(conn)
        orders, movements = hand_made_purchase_orders()
        load_lines(conn, link_receipts(orders, movements, C2), C2)
        conn.commit()
    with pytest.MonkeyPatch.context() as monkeypatch:
        statuses = dbt_build(url, tmp_path_factory.mktemp("dbt_gold_po"), monkeypatch)
    return {"url": url, "statuses": statuses}


def _rows(marts: dict, query: str, params: tuple = ()) -> list[dict]:
    with psycopg.connect(marts["url"], row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute(query, params).fetchall()


def test_build_and_dbt_tests_pass(marts: dict) -> None:
    tests = [s for s in marts["statuses"] if s[0].startswith("test.")]
    models = [s for s in marts["statuses"] if s[0].startswith("model.")]
    assert len(models) == 6 and len(tests) >= 30
    warned = {s[0].split(".")[2]: s[2] for s in tests if s[1] == "warn"}
    assert {s[1] for s in tests} == {"pass", "warn"}
    # C1 (+21 %) and C2 (-39 %) are complete and beyond the tolerance of 20 %; the partial cycle is not judged
    assert warned == {TRACKING_WARNING: "Got 2 results, configured to warn if != 0"}


def test_kpi_row_per_day(marts: dict) -> None:
    kpi = {r["cycle_date"]: r for r in _rows(marts, "SELECT * FROM marts.kpi_daily")}
    assert set(kpi) == {C1, C2}
    today = kpi[C2]
    assert today["materials"] == 4  # the baseline rows of the same materials are not counted twice
    assert today["stockout_rate"] == pytest.approx(1 / 3)  # M1 of M1, M2, M4 (M3 has no demand)
    assert today["site_stockout_rate"] == pytest.approx(1 / 4)
    assert today["below_reorder_point_rate"] == pytest.approx(2 / 4)  # M1 (5 <= 30), M4 (5 <= 5)
    assert today["inventory_value_brl"] == pytest.approx(0 * 100 + 50 * 10 + 100 * 1 + 3 * 1000)
    assert today["ensemble_rmsse"] == pytest.approx(0.7)
    assert today["ensemble_fva_rmsse"] == pytest.approx(0.3)
    assert today["best_model"] == "Ensemble"
    assert (today["fill_rate_project"], today["fill_rate_baseline"]) == (0.97, 0.95)
    assert today["savings_brl"] == pytest.approx(3000)
    assert (today["alerts_critical"], today["alerts_high"]) == (1, 1)
    assert today["sla_exposure_brl"] == pytest.approx(22000)
    assert kpi[C1]["stockout_rate"] == 0 and kpi[C1]["savings_brl"] is None


def test_model_comparison_across_cycles(marts: dict) -> None:
    rows = _rows(marts, "SELECT * FROM marts.model_comparison WHERE model = 'Ensemble' ORDER BY cycle_date")
    assert [r["rmsse_rank"] for r in rows] == [1, 1]
    partial = _rows(marts, "SELECT * FROM marts.model_comparison WHERE model = 'InstalledBase'")
    assert [(r["full_coverage"], r["rmsse_rank"]) for r in partial] == [(False, None), (False, None)]
    assert rows[1]["rmsse_change"] == pytest.approx(-0.05)
    assert rows[1]["fva_mase"] == pytest.approx(1 - 0.9 / 1.2)
    assert rows[1]["mlflow_run_id"] == "run-e"


def test_supplier_performance_falls_back_to_open_order_snapshots(marts: dict) -> None:
    s = {r["supplier_id"]: r for r in _rows(marts, "SELECT * FROM marts.supplier_performance")}
    assert {r["basis"] for r in s.values()} == {"open_order_snapshots"}  # no PO export loaded
    assert s["S1"]["cycle_date"] == C2
    assert s["S1"]["orders_received"] == 1 and s["S1"]["on_time_rate"] == 1.0  # PO1 left the list on C2
    assert s["S1"]["actual_lead_time_mean_days"] == 10.0 and s["S1"]["lead_time_gap_days"] == 0.0
    assert s["S1"]["po_promised_lead_time_mean_days"] == 12.5  # PO1 10 d, PO3 (open) 15 d
    assert s["S2"]["orders_overdue"] == 1 and s["S2"]["on_time_rate"] == 0.0  # PO2 past its date
    assert s["S2"]["actual_lead_time_mean_days"] is None and s["S2"]["lead_time_trend"] == "sem dados"


def test_supplier_performance_from_po_receipts(linked_marts: dict) -> None:
    tests = [s for s in linked_marts["statuses"] if s[0].startswith("test.")]
    assert {s[1] for s in tests if TRACKING_WARNING not in s[0]} == {"pass"}
    s = {r["supplier_id"]: r for r in _rows(linked_marts, "SELECT * FROM marts.supplier_performance")}
    assert {(r["basis"], r["cycle_date"]) for r in s.values()} == {("erp_purchase_orders", C2)}
    s1, s2 = s["S1"], s["S2"]
    # S1: PO10 on time; PO11, PO14 received late; PO13 open past its promise; PO12 not due
    assert (s1["orders_received"], s1["orders_open"], s1["orders_overdue"]) == (3, 2, 1)
    assert s1["on_time_rate"] == pytest.approx(1 / 4)
    assert s1["actual_lead_time_mean_days"] == pytest.approx(16.0)  # 8, 20, 20
    assert s1["actual_lead_time_std_days"] == pytest.approx(48**0.5)
    assert s1["po_promised_lead_time_mean_days"] == pytest.approx((10 + 10 + 15 + 13 + 10) / 5)
    assert s1["delay_mean_days"] == pytest.approx((-2 + 10 + 10) / 3)
    assert s1["lead_time_gap_days"] == pytest.approx(16.0 - 10.0)  # vs the supplier master's 10 days
    assert (s1["promised_lead_time_mean_days"], s1["promised_lead_time_std_days"]) == (10.0, 2.0)
    # trend: received in the last 90 days (8, 20 -> 14) vs the 90 before (20); due in each window
    assert (s1["recent_lead_time_days"], s1["previous_lead_time_days"]) == (14.0, 20.0)
    assert s1["lead_time_trend"] == "melhorando"
    assert (s1["recent_on_time_rate"], s1["previous_on_time_rate"]) == (pytest.approx(1 / 3), 0.0)
    # S2: one PO, two lines (20 d on time, 27 d late); PO21's receipt comes after the cycle: open, late
    assert (s2["orders_received"], s2["orders_open"], s2["orders_overdue"]) == (2, 1, 1)
    assert s2["on_time_rate"] == pytest.approx(1 / 3)
    assert s2["actual_lead_time_mean_days"] == pytest.approx(23.5)
    assert s2["actual_lead_time_std_days"] == pytest.approx(3.5 * 2**0.5)
    assert s2["lead_time_trend"] == "sem dados"


def test_sla_exposure_is_ranked_in_brl(marts: dict) -> None:
    rows = _rows(
        marts,
        "SELECT site_id, material_id, exposure_brl, exposure_rank FROM marts.sla_exposure"
        " WHERE cycle_date = %s ORDER BY exposure_rank",
        (C2,),
    )
    # M4 at T2: 0.6 x R$ 2000/day x (20 - 10) days; M1 at T1: 1.0 x R$ 1000/day x (10 - 0) days
    assert [(r["site_id"], r["material_id"], r["exposure_brl"]) for r in rows] == [
        ("T2", "M4", pytest.approx(12000)),
        ("T1", "M1", pytest.approx(10000)),
    ]


def test_regional_view_by_region_and_state(marts: dict) -> None:
    rows = _rows(marts, "SELECT * FROM marts.regional_view WHERE cycle_date = %s", (C2,))
    states = {r["region_code"]: r for r in rows if r["level"] == "state"}
    regions = {r["region_code"]: r for r in rows if r["level"] == "region"}
    assert len(states) == 27 and len(regions) == 28  # 27 territórios + the ERP's 'Centro-Sul'
    bahia = states["BA"]
    assert (bahia["sites"], bahia["towers"], bahia["stock_units"]) == (3, 2, 156)
    assert bahia["sla_exposure_brl"] == pytest.approx(22000)
    assert states["SP"]["stock_units"] == 0
    feira = regions["BA-TI19"]  # Portal do Sertão: T1
    assert feira["forecast_next_30d"] == pytest.approx(40)  # M1's 60 split 60:30 between T1 and WH
    assert (feira["stock_units"], feira["materials_on_alert"], feira["sla_exposure_brl"]) == (50, 1, 10000)
    assert regions["BA-ERP-CENTRO-SUL"]["region_source"] == "ERP"


def test_forecast_tracking_scores_each_cycle_on_the_days_since(marts: dict) -> None:
    rows = {r["cycle_date"]: r for r in _rows(marts, "SELECT * FROM marts.forecast_tracking")}
    assert set(rows) == {*TRACKED_LEVELS, SHORT_CYCLE}  # the ensemble's cycles only, whichever model is beside it
    short = rows.pop(SHORT_CYCLE)
    assert (short["days_observed"], short["horizon_days"], short["complete"]) == (3, 3, True)
    assert (short["bias"], short["wape"], short["interval_coverage"]) == (0.0, 0.0, None)  # no interval: no miss
    for cycle, level in TRACKED_LEVELS.items():
        observed = [cycle + dt.timedelta(days=d) for d in range(1, 31) if cycle + dt.timedelta(days=d) <= HISTORY_CYCLE]
        demand = [m1_demand(d) for d in observed]
        row = rows[cycle]
        assert (row["materials"], row["days_observed"], row["horizon_days"]) == (1, len(observed), 30)
        assert row["complete"] is (len(observed) == 30)
        assert row["last_day_observed"] == observed[-1]
        assert row["forecast_total"] == pytest.approx(level * len(observed))
        assert row["demand_total"] == pytest.approx(sum(demand))
        assert row["bias"] == pytest.approx(level * len(observed) / sum(demand) - 1)
        assert row["wape"] == pytest.approx(sum(abs(level - a) for a in demand) / sum(demand))
        assert row["interval_coverage"] == pytest.approx(sum(a <= 2 * level for a in demand) / len(demand))
        assert row["interval_level"] == pytest.approx(0.8)
        assert row["measured_through"] == HISTORY_CYCLE
    assert rows[PARTIAL_CYCLE]["days_observed"] == 10
    assert (rows[C1]["backtest_bias"], rows[C2]["backtest_bias"]) == (pytest.approx(-0.05), pytest.approx(-0.1))
    assert rows[PARTIAL_CYCLE]["backtest_bias"] is None  # no backtest of that cycle


def test_forecast_tracking_keeps_a_complete_cycle_as_measured(
    postgres_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next build is incremental: a complete cycle stays as measured (its days may leave the history
    or be corrected), the partial one is measured again on the later history, a new cycle appears."""
    url = fresh_database(postgres_server, "nova_gold_tracking_test")
    with psycopg.connect(url) as conn:
        load_sample_gold(conn)
    dbt_build(url, tmp_path / "first", monkeypatch, select="+forecast_tracking")
    before = {r["cycle_date"]: r for r in _rows({"url": url}, "SELECT * FROM marts.forecast_tracking")}

    later = HISTORY_CYCLE + dt.timedelta(days=25)  # the history now says 5 a day, also on C1's and C2's days
    edge = later - dt.timedelta(days=20)  # a 20-day forecast whose last day is the newest observed
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM analytics.demand_history")
        days = [later - dt.timedelta(days=d) for d in range(DEMAND_HISTORY_DAYS)]
        replace_cycle(
            conn,
            "analytics.demand_history",
            later,
            _frame("material_id demand_date demand", [("M1", d, 5.0) for d in days]),
        )
        for cycle, horizon in ((HISTORY_CYCLE, 30), (edge, 20)):
            days = [cycle + dt.timedelta(days=d) for d in range(1, horizon + 1)]
            _load_forecasts(conn, cycle, [("M1", d, "Ensemble", 5.0, 4.0, 6.0, 0.8) for d in days])
        conn.commit()
    statuses = dbt_build(url, tmp_path / "second", monkeypatch, select="forecast_tracking")
    after = {r["cycle_date"]: r for r in _rows({"url": url}, "SELECT * FROM marts.forecast_tracking")}

    assert set(after) == {C1, C2, PARTIAL_CYCLE, SHORT_CYCLE, HISTORY_CYCLE, edge}
    assert after[C1] == before[C1] and after[C2] == before[C2] and after[SHORT_CYCLE] == before[SHORT_CYCLE]
    # its 30 days as the later history observes them, 5 a day, though a later cycle (SHORT_CYCLE) was
    # complete before it
    partial = after[PARTIAL_CYCLE]
    assert (
        partial["complete"] and partial["demand_total"] == pytest.approx(150) and partial["bias"] == pytest.approx(-0.8)
    )
    # every day observed, but the last one is the newest, which the next export may still correct
    assert (after[edge]["days_observed"], after[edge]["horizon_days"], after[edge]["complete"]) == (20, 20, False)
    # only the cycle this run completed is judged: the partial one (-80 %), not C1 and C2 again
    assert [s[2] for s in statuses if TRACKING_WARNING in s[0]] == ["Got 1 result, configured to warn if != 0"]
    latest = after[HISTORY_CYCLE]
    assert (latest["days_observed"], latest["complete"], latest["bias"], latest["interval_coverage"]) == (
        25,
        False,
        0.0,
        1.0,
    )
    # a full refresh does not rebuild it: the measurements are what it keeps
    dbt_build(url, tmp_path / "refresh", monkeypatch, select="forecast_tracking", full_refresh=True)
    assert {r["cycle_date"]: r for r in _rows({"url": url}, "SELECT * FROM marts.forecast_tracking")} == after


def test_the_tracking_query_pages_newest_first_and_says_when_there_is_nothing(
    marts: dict, postgres_server: str
) -> None:
    with psycopg.connect(marts["url"]) as conn:
        page = queries.forecast_tracking(conn, queries.Paging(2, 0))
    assert [r["cycle_date"] for r in page.items] == [SHORT_CYCLE, PARTIAL_CYCLE]
    assert (page.total, page.cycle_date, page.note) == (4, SHORT_CYCLE, None)
    with psycopg.connect(fresh_database(postgres_server, "nova_gold_no_marts_test")) as conn:
        empty = queries.forecast_tracking(conn)  # a gold layer whose marts were never built
        assert conn.execute("SELECT 1").fetchone() == (1,)  # the page's other queries go on
    assert (empty.items, empty.total) == ([], 0) and empty.note.startswith("nenhum ciclo")
