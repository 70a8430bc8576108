"""End-to-end check of the dbt project (dbt_project/) on a tiny, deterministic raw lake.

Writes the raw Parquet tables of docs/data_contract.md to tmp_path, runs `dbt build` through
dbt's Python API with NOVA_LAKE_DIR=tmp_path (target and log paths inside tmp_path, so
dbt_project/target is never touched) and checks the silver export:

(a) explicit zero-demand days exist (dense material x day grid),
(b) no leakage: lag_1(d) == demand(d-1) and ma_7(d) == mean(demand[d-7..d-1]),
(c) changing the demand of the LAST day changes no feature of any row (two builds).

Needs no server; takes ~15 s (two dbt builds).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pandas as pd
import pytest

dbt_main = pytest.importorskip("dbt.cli.main")

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

START = dt.date(2024, 1, 1)
N_DAYS = 75
MATERIALS = ["M1", "M2", "M3", "M4"]  # M4 never moves: an all-zero series
SITES = ["WH-SSA", "TWR-001"]
ISSUE_PROBABILITY = {"M1": 0.7, "M2": 0.25, "M3": 0.08}


def _days() -> list[dt.date]:
    return [START + dt.timedelta(days=i) for i in range(N_DAYS)]


def _write_raw_lake(lake: Path, last_day_factor: float = 1.0) -> None:
    """Write every raw table of the data contract; `last_day_factor` scales last-day issues."""
    raw = lake / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(20240101)
    days = _days()

    def write(name: str, rows: dict) -> None:
        pd.DataFrame(rows).to_parquet(raw / f"{name}.parquet", index=False)

    write(
        "erp_materials",
        {
            "material_id": MATERIALS,
            "description": [f"Part {m}" for m in MATERIALS],
            "category": ["rf", "power", "cable", "misc"],
            "unit": ["un"] * 4,
            "unit_cost": [120.0, 35.5, 12.0, 3.2],
            "criticality": ["A", "B", "C", "C"],
            "supplier_id": ["SUP1", "SUP2", "SUP1", "SUP2"],
        },
    )
    write(
        "erp_sites",
        {
            "site_id": SITES,
            "site_name": ["CD Salvador", "Torre 1"],
            "site_type": ["warehouse", "tower"],
            "region": ["RMS", "RMS"],
            "state": ["BA", "BA"],
            "municipality": ["Salvador", "Salvador"],
            "ibge_code": ["2927408", "2927408"],
            "latitude": [-12.97, -12.95],
            "longitude": [-38.51, -38.45],
            "sla_penalty_brl_day": [0.0, 1500.0],
        },
    )
    write(
        "erp_suppliers",
        {
            "supplier_id": ["SUP1", "SUP2"],
            "supplier_name": ["Fornecedor A", "Fornecedor B"],
            "lead_time_mean_days": [14.0, 7.0],
            "lead_time_std_days": [3.0, 1.5],
        },
    )

    movements = []
    for material, p in ISSUE_PROBABILITY.items():
        for site in SITES:
            for day in days:
                if rnd.random() < p:
                    movements.append((day, material, site, "issue", float(rnd.randint(1, 9)), "erp_a.csv"))
                if rnd.random() < 0.03:
                    movements.append((day, material, site, "receipt", float(rnd.randint(10, 40)), "erp_a.csv"))
    # guaranteed demand on the first and the last day (the last one is the one we perturb)
    movements.append((days[0], "M1", "WH-SSA", "issue", 2.5, "erp_a.csv"))
    movements.append((days[-1], "M1", "WH-SSA", "issue", 4.5, "erp_a.csv"))
    movements.append((days[-1], "M2", "TWR-001", "issue", 1.5, "erp_a.csv"))
    # an overlapping extract repeats some rows: they must be deduplicated
    movements += [(*m[:5], "erp_b_overlap.csv") for m in movements[:5]]
    mv = pd.DataFrame(
        movements,
        columns=["movement_date", "material_id", "site_id", "movement_type", "quantity", "source_file"],
    )
    last = (mv["movement_date"] == days[-1]) & (mv["movement_type"] == "issue")
    mv.loc[last, "quantity"] = mv.loc[last, "quantity"] * last_day_factor
    write("erp_movements", mv.to_dict("list"))

    write(
        "erp_stock",
        {
            "snapshot_date": [days[-1]] * 2,
            "material_id": ["M1", "M2"],
            "site_id": ["WH-SSA", "WH-SSA"],
            "on_hand": [10.0, 0.0],
        },
    )
    write(
        "erp_open_orders",
        {
            "po_id": ["PO1"],
            "material_id": ["M1"],
            "supplier_id": ["SUP1"],
            "quantity": [50.0],
            "order_date": [days[-10]],
            "expected_date": [days[-1] + dt.timedelta(days=5)],
        },
    )

    weather_days = [START - dt.timedelta(days=35) + dt.timedelta(days=i) for i in range(N_DAYS + 35)]
    write(
        "weather_daily",
        {
            "date": weather_days,
            "temp_max": [30.0 + (i % 8) for i in range(len(weather_days))],
            "temp_min": [22.0 + (i % 3) for i in range(len(weather_days))],
            "temp_avg": [26.0 + (i % 4) for i in range(len(weather_days))],
            "humidity_avg": [70.0 + (i % 15) for i in range(len(weather_days))],
            "precipitation_mm": [float((i * 7) % 13) if i % 3 else 0.0 for i in range(len(weather_days))],
            "wind_speed_max": [12.0] * len(weather_days),
            "source": ["open-meteo"] * len(weather_days),
        },
    )
    econ_days = [START - dt.timedelta(days=40) + dt.timedelta(days=i) for i in range(N_DAYS + 40)]
    write("economics_selic", {"date": econ_days, "value": [11.75] * len(econ_days)})
    business_days = [d for d in econ_days if d.weekday() < 5]
    write(
        "economics_usd_brl",
        {"date": business_days, "value": [4.9 + 0.01 * ((i * 5) % 7) for i in range(len(business_days))]},
    )
    months = [
        dt.date(2023, 10, 1),
        dt.date(2023, 11, 1),
        dt.date(2023, 12, 1),
        dt.date(2024, 1, 1),
        dt.date(2024, 2, 1),
        dt.date(2024, 3, 1),
    ]
    write("economics_ipca", {"month": months, "value": [0.24, 0.28, 0.56, 0.42, 0.83, 0.16]})
    write(
        "anatel_5g_monthly",
        {
            "month": months,
            "ibge_code": ["2927408"] * len(months),
            "stations_5g_new": [5, 7, 3, 10, 4, 6],
            "stations_5g_total": [100, 107, 110, 120, 124, 130],
        },
    )
    write(
        "holidays",
        {
            "date": [dt.date(2024, 1, 1), dt.date(2024, 2, 12), dt.date(2024, 2, 13), dt.date(2024, 3, 29)],
            "name": ["Confraternizacao Universal", "Carnaval", "Carnaval", "Sexta-feira Santa"],
            "scope": ["national", "optional", "optional", "national"],
            "is_major": [True, True, True, True],
        },
    )


def _dbt_build(lake: Path, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    monkeypatch.setenv("NOVA_LAKE_DIR", str(lake))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    result = dbt_main.dbtRunner().invoke(
        [
            "build",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target",
            "duckdb",
            "--target-path",
            str(lake / "dbt_target"),
            "--log-path",
            str(lake / "dbt_logs"),
            "--quiet",
        ]
    )
    assert result.exception is None, result.exception
    assert result.success, [
        (r.node.unique_id, str(r.status), r.message)
        for r in (result.result or [])
        if str(r.status) not in ("success", "pass")
    ]
    assert (lake / "silver" / "fct_item_daily_demand.parquet").exists()
    feat = pd.read_parquet(lake / "silver" / "feat_item_daily.parquet")
    feat["date"] = pd.to_datetime(feat["date"])
    return feat.sort_values(["material_id", "date"]).reset_index(drop=True)


def test_dbt_build_features_have_no_leakage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake_a = tmp_path / "lake_a"
    _write_raw_lake(lake_a)
    feat = _dbt_build(lake_a, monkeypatch)

    # dense grid: every material x every spine day
    assert len(feat) == len(MATERIALS) * N_DAYS
    assert not feat.duplicated(["material_id", "date"]).any()

    # (a) explicit zero days exist, including the material that never moved
    assert (feat["demand"] == 0).sum() > 0
    assert (feat.loc[feat["material_id"] == "M4", "demand"] == 0).all()
    assert ((feat["material_id"] == "M1") & (feat["demand"] == 0)).any()

    # (b) lag_1 / ma_7 of day d come from d-1 / d-7..d-1 only
    m1 = feat[feat["material_id"] == "M1"].set_index("date")["demand"]
    f1 = feat[feat["material_id"] == "M1"].set_index("date")
    assert m1.index.is_monotonic_increasing and m1.index.to_series().diff().dropna().eq(pd.Timedelta(days=1)).all()
    expected_lag_1 = m1.shift(1)
    expected_ma_7 = m1.shift(1).rolling(7, min_periods=7).mean()
    current_day_ma_7 = m1.rolling(7, min_periods=7).mean()  # what a leaky feature would give
    pd.testing.assert_series_equal(f1["lag_1"], expected_lag_1, check_names=False)
    pd.testing.assert_series_equal(f1["ma_7"], expected_ma_7, check_names=False, rtol=1e-9)
    assert f1["lag_1"].iloc[0] != f1["lag_1"].iloc[0]  # NaN on the first day: nothing before it
    assert f1["ma_7"].iloc[:7].isna().all() and f1["ma_7"].iloc[7:].notna().all()
    # the data must be able to tell the two apart, otherwise the check above proves nothing
    assert (expected_ma_7 - current_day_ma_7).abs().max() > 1e-6

    # (c) scaling the last day's demand changes no feature of any row
    lake_b = tmp_path / "lake_b"
    _write_raw_lake(lake_b, last_day_factor=10.0)
    feat_b = _dbt_build(lake_b, monkeypatch)

    last_day = feat["date"].max()
    changed = (
        feat_b.loc[feat_b["date"] == last_day, "demand"].to_numpy()
        != feat.loc[feat["date"] == last_day, "demand"].to_numpy()
    )
    assert changed.any(), "the perturbation must change the last day's demand"
    pd.testing.assert_frame_equal(feat.drop(columns=["demand"]), feat_b.drop(columns=["demand"]))
    # and nothing but the last day moved
    earlier = feat["date"] < last_day
    pd.testing.assert_series_equal(feat.loc[earlier, "demand"], feat_b.loc[earlier, "demand"])
