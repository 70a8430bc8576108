"""End-to-end checks of the dbt feature store (dbt_project/features) on a small, deterministic raw lake.

Writes the raw Parquet tables of data/README.md to temporary lakes (430 days, 6 materials, a
warehouse and a tower), runs dbt through its Python API (target and log paths inside the lake,
so dbt_project/features/target is not touched by these runs) and checks:

* features: dense grid with explicit zeros; lags, rolling means/stds, trend, seasonal index,
  days since last demand, maintenance proxy, supplier status and market index recomputed
  independently in pandas from strictly past data; `dbt docs generate` works and every model
  and column is described;
* leakage: changing the last day's data (issues, a burst of tower issues, a purchase order,
  that day's SELIC and PTAX) changes no feature of any row except the same-day economics; a
  build on the history truncated at day K gives exactly the rows <= K of the full build; and
  the check does catch features made to see their own day (a mutated copy of the project);
* incremental: full history arriving on the truncated build + an incremental run over a
  one-day window gives exactly the rows of the full build, leaving rows outside it alone;
  full_refresh_reason() on missing / empty / re-columned tables;
* Dagster: the partitioned dbt assets materialize one partition in process (DbtCliResource,
  `dbt build --vars` with the partition's window, incremental), every dbt test a passing check.

Needs no server. About a minute on an idle 2-core machine (six dbt runs, one Dagster build).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

dbt_main = pytest.importorskip("dbt.cli.main")

DBT_ROOT = Path(__file__).resolve().parents[2] / "dbt_project"
PROJECT_DIR = DBT_ROOT / "features"

START = dt.date(2024, 1, 1)
N_DAYS = 430  # > 13 months: the trailing-year seasonal index and the 90-day trend get values
MATERIALS = ["M1", "M2", "M3", "M4", "M5", "M6"]  # M4 never moves; M5, M6 only in the tower bursts
SITES = ["WH-SSA", "TWR-001"]
ISSUE_PROBABILITY = {"M1": 0.7, "M2": 0.25, "M3": 0.08}
BURST_DAYS = (100, 200, 300, 400)  # the tower pulls many different parts at once
PLANNED_DAYS = (150, 250, 350)  # preventive orders at the tower, created 42 days ahead
DOCUMENTS = ("DOC-1", "DOC-2")
TRUNCATE_AT = N_DAYS - 20  # index of the last day of the truncated history
LAST_DAY_ECONOMICS = ["usd_brl", "selic", "exchange_volatility_30d", "market_condition_index"]
INCREMENTAL_MODELS = ["fct_item_site_daily_demand", "fct_item_daily_demand", "feat_item_daily"]


def _days() -> list[dt.date]:
    return [START + dt.timedelta(days=i) for i in range(N_DAYS)]


def _write_raw_lake(lake: Path, *, perturb_last_day: bool = False, last_day_index: int = N_DAYS - 1) -> None:
    """Write every raw table of the data contract.

    perturb_last_day: scale the last day's issues x10, add issues of two more materials at the
    tower, add a purchase order placed that day and move that day's SELIC and PTAX.
    last_day_index: drop the movements after that day (a truncated history).
    """
    raw = lake / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(20240101)
    days = _days()
    last = days[-1]

    def write(name: str, rows: dict) -> None:
        pd.DataFrame(rows).to_parquet(raw / f"{name}.parquet", index=False)

    write(
        "erp_materials",
        {
            "material_id": MATERIALS,
            "description": [f"Part {m}" for m in MATERIALS],
            "category": ["rf", "power", "cable", "misc", "power", "rf"],
            "unit": ["un"] * len(MATERIALS),
            "unit_cost": [120.0, 35.5, 12.0, 3.2, 80.0, 45.0],
            "criticality": ["A", "B", "C", "C", "B", "B"],
            "supplier_id": ["SUP1", "SUP2", "SUP1", None, "SUP2", "SUP2"],  # M4 has no supplier
            "supersedes": [None, None, None, None, None, "M5"],  # M6 replaces M5
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
                # M1 has a rainy-season peak (April-June), so the seasonal index has something to see
                boost = 3 if material == "M1" and day.month in (4, 5, 6) else 1
                if rnd.random() < p:
                    movements.append((day, material, site, "issue", float(rnd.randint(1, 9) * boost), "erp_a.csv"))
                if rnd.random() < 0.03:
                    movements.append((day, material, site, "receipt", float(rnd.randint(10, 40)), "erp_a.csv"))
    for i in BURST_DAYS:
        movements += [(days[i], m, "TWR-001", "issue", 1.0, "erp_a.csv") for m in ("M1", "M2", "M3", "M5", "M6")]
    # guaranteed demand on the first and the last day (the last one is the one we perturb)
    movements.append((days[0], "M1", "WH-SSA", "issue", 2.5, "erp_a.csv"))
    movements.append((last, "M1", "WH-SSA", "issue", 4.5, "erp_a.csv"))
    movements.append((last, "M2", "TWR-001", "issue", 1.5, "erp_a.csv"))
    if perturb_last_day:
        movements += [(last, m, "TWR-001", "issue", 3.0, "erp_c.csv") for m in ("M1", "M3", "M5", "M6")]
    # an overlapping extract repeats some rows: they must be deduplicated
    movements += [(*m[:5], "erp_b_overlap.csv") for m in movements[:5]]
    mv = pd.DataFrame(
        movements,
        columns=["movement_date", "material_id", "site_id", "movement_type", "quantity", "source_file"],
    )
    if perturb_last_day:
        on_last = (mv["movement_date"] == last) & (mv["movement_type"] == "issue")
        mv.loc[on_last, "quantity"] = mv.loc[on_last, "quantity"] * 10
    # two equal issues under their own ERP documents are two movements, not a duplicate
    documented = pd.DataFrame(
        [(days[2], "M1", "WH-SSA", "issue", 7.0, "erp_d.csv", doc) for doc in DOCUMENTS],
        columns=[*mv.columns, "movement_id"],
    )
    mv = pd.concat([mv.assign(movement_id=None), documented], ignore_index=True).assign(po_id=None)
    mv = mv[mv["movement_date"] <= days[last_day_index]]
    write("erp_movements", mv.to_dict("list"))

    write(
        "erp_stock",
        {
            "snapshot_date": [last] * 2,
            "material_id": ["M1", "M2"],
            "site_id": ["WH-SSA", "WH-SSA"],
            "on_hand": [10.0, 0.0],
        },
    )
    orders = {
        "po_id": ["PO1", "PO2", "PO3", "PO4"],
        "material_id": ["M1", "M2", "M3", "M2"],
        "supplier_id": ["SUP1", "SUP2", None, "SUP2"],  # PO3: the material's supplier (SUP1)
        "quantity": [50.0, 20.0, 10.0, 5.0],
        "order_date": [days[300], days[-10], days[250], None],  # PO4: unknown order day, ignored
        "expected_date": [days[330], last + dt.timedelta(days=5), days[280], days[200]],
    }
    if perturb_last_day:  # placed on the last day and already late: may only count from the next day on
        for column, value in zip(orders, ["PO5", "M1", "SUP1", 8.0, last, days[-30]], strict=True):
            orders[column].append(value)
    write("erp_open_orders", orders)

    write(
        "erp_installed_base",
        {
            "equipment_id": ["EQ-1"],
            "equipment_type": ["RECTIFIER"],
            "model": [None],
            "site_id": ["TWR-001"],
            "install_date": [START - dt.timedelta(days=2000)],
            "status": ["active"],
            "decommission_date": [None],
        },
    )
    # the plan (PLANNED_DAYS), a cancelled preventive order, a corrective one, and one opened on its own day
    work_orders = [
        (f"WO-{i}", "preventive", days[i] - dt.timedelta(days=42), days[i], None, days[i], "completed")
        for i in PLANNED_DAYS
    ]
    work_orders += [
        ("WO-C", "preventive", days[100], days[120], None, None, "cancelled"),
        ("WO-F", "corrective", days[200], None, days[200], days[201], "completed"),
        ("WO-S", "preventive", days[260], days[260], None, days[260], "completed"),
    ]
    if perturb_last_day:  # opened and planned on the last day: not known before it
        work_orders.append(("WO-L", "preventive", last, last, None, None, "open"))
    columns = ["work_order_id", "kind", "created_date", "planned_date", "failure_date", "completion_date", "status"]
    frame = pd.DataFrame(work_orders, columns=columns).assign(equipment_id="EQ-1", site_id="TWR-001", failure_code=None)
    write("erp_work_orders", frame.to_dict("list"))
    write("erp_work_order_parts", {"work_order_id": ["WO-150"], "material_id": ["M5"], "quantity": [1.0]})

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
    econ_days = [START - dt.timedelta(days=420) + dt.timedelta(days=i) for i in range(N_DAYS + 420)]
    selic = [13.75 if d < dt.date(2023, 8, 2) else 12.25 if d < dt.date(2024, 6, 1) else 10.5 for d in econ_days]
    business_days = [d for d in econ_days if d.weekday() < 5]
    usd = [4.9 + 0.002 * i + 0.03 * ((i * 5) % 7) for i in range(len(business_days))]
    if perturb_last_day:
        selic[-1] = 15.0
        usd[-1] = usd[-1] * 1.2 if business_days[-1] == last else usd[-1]
        if business_days[-1] != last:  # the last day is a weekend: publish a quote on it
            business_days.append(last)
            usd.append(usd[-1] * 1.2)
    write("economics_selic", {"date": econ_days, "value": selic})
    write("economics_usd_brl", {"date": business_days, "value": usd})
    months = [dt.date(2022 + (9 + k) // 12, (9 + k) % 12 + 1, 1) for k in range(30)]  # 2022-10 .. 2025-03
    write("economics_ipca", {"month": months, "value": [0.2 + 0.05 * ((k * 7) % 11) for k in range(len(months))]})
    write(
        "anatel_5g_monthly",
        {
            "month": months,
            "ibge_code": ["2927408"] * len(months),
            "stations_5g_new": [5] * len(months),
            "stations_5g_total": [100 + 5 * k for k in range(len(months))],
        },
    )
    write(
        "holidays",
        {
            "date": [dt.date(2024, 1, 1), dt.date(2024, 2, 12), dt.date(2024, 7, 2), dt.date(2025, 1, 1)],
            "name": ["Confraternizacao Universal", "Carnaval", "Independencia da Bahia", "Confraternizacao Universal"],
            "scope": ["national", "optional", "state", "national"],
            "is_major": [True, True, True, True],
        },
    )


def _dbt(lake: Path, *command: str, extra: tuple[str, ...] = (), project_dir: Path = PROJECT_DIR) -> None:
    """Run a dbt command on the lake through dbt's Python API; fail with the failing nodes."""
    result = dbt_main.dbtRunner().invoke(
        [
            *command,
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target",
            "duckdb",
            "--target-path",
            str(lake / "dbt_target"),
            "--log-path",
            str(lake / "dbt_logs"),
            "--quiet",
            *extra,
        ]
    )
    assert result.exception is None, result.exception
    assert result.success, [
        (r.node.unique_id, str(r.status), r.message)
        for r in (result.result or [])
        if str(r.status) not in ("success", "pass")
    ]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    if "date" in frame.columns:
        frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    keys = [c for c in ("material_id", "site_id", "supplier_id", "date") if c in frame.columns]
    return frame.sort_values(keys).reset_index(drop=True)


def _table(lake: Path, name: str) -> pd.DataFrame:
    """A table of the lake's warehouse (not read_only: dbt-duckdb keeps its connection open here)."""
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        return _sorted(con.execute(f"select * from main.{name}").df())


def _silver(lake: Path, name: str) -> pd.DataFrame:
    """A silver Parquet export of the lake."""
    return _sorted(pd.read_parquet(lake / "silver" / f"{name}.parquet"))


@pytest.fixture(scope="module")
def env() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        mp.setenv("DO_NOT_TRACK", "1")
        yield mp


@pytest.fixture(scope="module")
def lake_a(tmp_path_factory: pytest.TempPathFactory, env: pytest.MonkeyPatch) -> Path:
    """The reference lake: full raw data, `dbt run` and `dbt docs generate` (the dbt tests run in
    the Dagster test below, as asset checks)."""
    lake = tmp_path_factory.mktemp("lake_a")
    _write_raw_lake(lake)
    env.setenv("NOVA_LAKE_DIR", str(lake))
    _dbt(lake, "run")
    _dbt(lake, "docs", "generate")
    return lake


@pytest.fixture(scope="module")
def feat_a(lake_a: Path) -> pd.DataFrame:
    feat = _silver(lake_a, "feat_item_daily")
    pd.testing.assert_frame_equal(feat, _table(lake_a, "feat_item_daily"), check_dtype=False)
    return feat


def _series(feat: pd.DataFrame, material: str, column: str) -> pd.Series:
    return feat[feat["material_id"] == material].set_index("date")[column]


def test_movements_are_one_per_document_and_undocumented_duplicates_collapse(lake_a: Path) -> None:
    staged = _table(lake_a, "stg_erp__movements")
    assert sorted(staged["movement_id"].dropna()) == sorted(DOCUMENTS)
    assert not staged["movement_key"].duplicated().any()
    undocumented = staged[staged["movement_id"].isna()]
    business_key = ["movement_date", "material_id", "site_id", "movement_type", "quantity"]
    assert not undocumented.duplicated(business_key).any()  # the overlapping extract's repeats are gone
    raw = pd.read_parquet(lake_a / "raw" / "erp_movements.parquet")
    assert len(staged) == len(raw.drop_duplicates([*business_key, "movement_id"]))


def test_feature_table_is_dense_with_explicit_zeros(feat_a: pd.DataFrame) -> None:
    assert len(feat_a) == len(MATERIALS) * N_DAYS
    assert not feat_a.duplicated(["material_id", "date"]).any()
    assert (feat_a["demand"] == 0).sum() > 0
    assert (_series(feat_a, "M4", "demand") == 0).all()
    assert (_series(feat_a, "M1", "demand") == 0).any()


def test_demand_features_use_only_past_days(feat_a: pd.DataFrame) -> None:
    for material in ("M1", "M2", "M3"):
        y = _series(feat_a, material, "demand")
        f = feat_a[feat_a["material_id"] == material].set_index("date")
        assert y.index.to_series().diff().dropna().eq(pd.Timedelta(days=1)).all()
        past = y.shift(1)  # the value a feature of day d may see last
        pd.testing.assert_series_equal(f["lag_1"], past, check_names=False)
        pd.testing.assert_series_equal(f["lag_30"], y.shift(30), check_names=False)
        for n in (7, 14, 30):
            pd.testing.assert_series_equal(f[f"ma_{n}"], past.rolling(n).mean(), check_names=False, rtol=1e-9)
            pd.testing.assert_series_equal(f[f"std_{n}"], past.rolling(n).std(), check_names=False, rtol=1e-9)
        # trend: least-squares slope over d-90..d-1
        slope = past.rolling(90).apply(lambda w: np.polyfit(np.arange(90.0), w, 1)[0], raw=True)
        pd.testing.assert_series_equal(f["trend"], slope, check_names=False, rtol=1e-6, atol=1e-9)
        # days since the last day before d with demand
        last_demand = pd.Series(y.index.where(y > 0), index=y.index).shift(1).ffill()
        expected_since = (y.index.to_series() - last_demand).dt.days
        pd.testing.assert_series_equal(
            f["days_since_last_demand"].astype(float), expected_since.astype(float), check_names=False
        )
        # seasonal index: month M-12 over the 12 completed months before the day's month
        monthly = y.groupby(y.index.to_period("M")).agg(["sum", "count"])
        expected_index = {}
        for month in monthly.index:
            window = monthly.loc[month - 12 : month - 1]
            if len(window) == 12 and window["count"].sum() == (month.start_time - (month - 12).start_time).days:
                mean_12 = window["sum"].sum() / window["count"].sum()
                same = monthly.loc[month - 12]
                expected_index[month] = same["sum"] / same["count"] / mean_12 if mean_12 > 0 else np.nan
        expected_seasonal = pd.Series(
            [expected_index.get(d.to_period("M"), np.nan) for d in y.index], index=y.index, dtype=float
        )
        pd.testing.assert_series_equal(f["seasonal_index"], expected_seasonal, check_names=False, rtol=1e-9)
    # the data must tell a leaky window apart from a past-only one, or the checks prove nothing
    y1 = _series(feat_a, "M1", "demand")
    assert (y1.shift(1).rolling(7).mean() - y1.rolling(7).mean()).abs().max() > 1e-6
    m1 = feat_a[feat_a["material_id"] == "M1"].set_index("date")
    assert m1["seasonal_index"].notna().sum() > 31 and m1["trend"].notna().sum() > 300
    assert m1.loc["2025-01-01", "seasonal_index"] != m1.loc["2025-02-01", "seasonal_index"]


def test_external_features_use_only_known_information(lake_a: Path, feat_a: pd.DataFrame) -> None:
    day = feat_a[feat_a["material_id"] == "M1"].set_index("date")
    days = day.index
    # the maintenance plan: preventive orders planned that day and created before it, not cancelled
    expected_flag = pd.Series(0, index=days)
    expected_flag.iloc[list(PLANNED_DAYS)] = 1
    pd.testing.assert_series_equal(day["maintenance_flag"], expected_flag, check_names=False, check_dtype=False)
    assert day["towers_in_maintenance"].iloc[PLANNED_DAYS[0]] == 1

    # supplier status of M1 (SUP1: PO1 placed day 300, due day 330; PO3 of M3 placed day 250, due 280)
    m1 = day["supplier_open_orders"]
    d = {i: days[i] for i in (250, 251, 280, 281, 300, 301, 330, 331)}
    assert m1[d[250]] == 0 and m1[d[251]] == 1 and m1[d[301]] == 2
    assert day["supplier_overdue_orders"][d[280]] == 0 and day["supplier_overdue_orders"][d[281]] == 1
    assert day["supplier_overdue_orders"][d[331]] == 2
    assert day["supplier_max_days_overdue"][d[331]] == 331 - 280
    assert day["supplier_status"][d[250]] == "no_open_orders"
    assert day["supplier_status"][d[251]] == "on_time" and day["supplier_status"][d[281]] == "overdue"
    assert (feat_a.loc[feat_a["material_id"] == "M4", "supplier_status"] == "unknown").all()

    # economics: values published on or before the day; the market index is the mean of its z-scores
    econ = _table(lake_a, "int_economics_daily").set_index("date")
    econ.index = pd.to_datetime(econ.index)
    assert (pd.to_datetime(econ["usd_brl_published_date"]) <= econ.index).all()
    assert (pd.to_datetime(econ["ipca_reference_month"]) < econ.index.to_period("M").start_time).all()
    z = econ[["usd_brl_z", "selic_z", "ipca_z"]]
    assert z.notna().all().all()
    pd.testing.assert_series_equal(econ["market_condition_index"], z.mean(axis=1), check_names=False, rtol=1e-12)
    pd.testing.assert_series_equal(
        day["market_condition_index"], econ["market_condition_index"].reindex(days), check_names=False
    )
    # usd_brl_z: the forward-filled PTAX of the day against the 365 days ending on it
    ptax = _table(lake_a, "stg_economics__usd_brl").set_index("date")["usd_brl"]
    ptax.index = pd.to_datetime(ptax.index)
    filled = ptax.reindex(pd.date_range(ptax.index.min(), days.max())).ffill()
    rolling = filled.rolling(365, min_periods=180)
    expected_z = ((filled - rolling.mean()) / rolling.std()).reindex(days)
    pd.testing.assert_series_equal(econ["usd_brl_z"].reindex(days), expected_z, check_names=False, rtol=1e-6)


def test_dbt_docs_cover_every_model_and_column(lake_a: Path) -> None:
    """`dbt docs generate` worked (lake_a) and its catalog columns are all described."""
    manifest = json.loads((lake_a / "dbt_target" / "manifest.json").read_text())
    catalog = json.loads((lake_a / "dbt_target" / "catalog.json").read_text())
    assert (lake_a / "dbt_target" / "index.html").exists()
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert len(models) >= 20
    for node in models:
        assert node["description"].strip(), node["name"]
        columns = {c.lower() for c in catalog["nodes"][node["unique_id"]]["columns"]}
        documented = {name: col["description"].strip() for name, col in node["columns"].items()}
        assert columns == set(documented), (node["name"], columns ^ set(documented))
        assert all(documented.values()), (node["name"], [c for c, d in documented.items() if not d])
    tested = {
        n["attached_node"] or n["depends_on"]["nodes"][0]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "test" and n.get("attached_node")
    }
    assert {m["unique_id"] for m in models} <= tested, "every model has dbt tests"
    assert any(n["resource_type"] == "unit_test" for n in manifest["unit_tests"].values())


def test_changing_the_last_day_changes_no_feature(
    tmp_path: Path, env: pytest.MonkeyPatch, feat_a: pd.DataFrame
) -> None:
    lake = tmp_path / "lake_b"
    _write_raw_lake(lake, perturb_last_day=True)
    env.setenv("NOVA_LAKE_DIR", str(lake))
    _dbt(lake, "run")
    feat_b = _silver(lake, "feat_item_daily")

    last_day = feat_a["date"].max()
    assert (feat_b.loc[feat_b["date"] == last_day, "demand"] != feat_a.loc[feat_a["date"] == last_day, "demand"]).any()
    assert (feat_b.loc[feat_b["date"] == last_day, "selic"] != feat_a.loc[feat_a["date"] == last_day, "selic"]).all(), (
        "the perturbation must move the last day's SELIC"
    )
    earlier = feat_a["date"] < last_day
    # every column of every earlier row is unchanged (demand included) ...
    pd.testing.assert_frame_equal(feat_a[earlier], feat_b[earlier])
    # ... and on the last day only the target and that day's published economics moved
    same_day = [*LAST_DAY_ECONOMICS, "demand"]
    pd.testing.assert_frame_equal(feat_a[~earlier].drop(columns=same_day), feat_b[~earlier].drop(columns=same_day))
    assert _changed_features(feat_a, feat_b) == set()


def _changed_features(feat_a: pd.DataFrame, feat_b: pd.DataFrame) -> set[str]:
    """Feature columns that differ on some row, allowing only the last day's published economics."""
    last_day = feat_a["date"].max()
    changed = set()
    for column in feat_a.columns.drop(["material_id", "date", "demand"]):
        a, b = feat_a[column], feat_b[column]
        same = (a == b) | (a.isna() & b.isna())
        if column in LAST_DAY_ECONOMICS:
            same |= feat_a["date"] == last_day
        if not same.all():
            changed.add(column)
    return changed


# features computed with information of their own day: the leakage check must catch each one
LEAKY_MUTATIONS = {
    "models/marts/feat_item_daily.sql": (
        "w_7     as (partition by material_id order by date rows between 7 preceding and 1 preceding)",
        "w_7     as (partition by material_id order by date rows between 6 preceding and current row)",
    ),
    "models/intermediate/int_maintenance_daily.sql": (
        "coalesce(plan.created_date, plan.planned_date - 1) < spine.date",
        "coalesce(plan.created_date, plan.planned_date - 1) <= spine.date",
    ),
    "models/intermediate/int_supplier_daily.sql": (
        "order_lines.order_date < spine.date",
        "order_lines.order_date <= spine.date",
    ),
}


def test_the_leakage_check_catches_features_that_see_their_own_day(
    tmp_path: Path, env: pytest.MonkeyPatch, feat_a: pd.DataFrame
) -> None:
    shutil.copytree(DBT_ROOT, tmp_path / "dbt_project", ignore=shutil.ignore_patterns("target", "logs", "gold"))
    project = tmp_path / "dbt_project" / PROJECT_DIR.name
    for path, (old, new) in LEAKY_MUTATIONS.items():
        sql = (project / path).read_text()
        assert old in sql, path
        (project / path).write_text(sql.replace(old, new))
    features = {}
    for name, perturb in (("a", False), ("b", True)):
        lake = tmp_path / f"lake_{name}"
        _write_raw_lake(lake, perturb_last_day=perturb)
        env.setenv("NOVA_LAKE_DIR", str(lake))
        _dbt(lake, "run", project_dir=project)
        features[name] = _silver(lake, "feat_item_daily")
    assert _changed_features(feat_a, feat_a) == set()
    leaked = _changed_features(features["a"], features["b"])
    assert {"ma_7", "std_7", "maintenance_flag", "supplier_open_orders"} <= leaked, leaked


def test_truncated_history_and_incremental_window_match_the_full_build(
    tmp_path: Path, env: pytest.MonkeyPatch, lake_a: Path, feat_a: pd.DataFrame
) -> None:
    lake = tmp_path / "lake_d"
    days = _days()
    _write_raw_lake(lake, last_day_index=TRUNCATE_AT)
    env.setenv("NOVA_LAKE_DIR", str(lake))
    _dbt(lake, "run")

    # no feature of a day <= K depends on movements after K
    feat_d = _silver(lake, "feat_item_daily")
    assert feat_d["date"].max() == pd.Timestamp(days[TRUNCATE_AT])
    pd.testing.assert_frame_equal(
        feat_d, feat_a[feat_a["date"] <= pd.Timestamp(days[TRUNCATE_AT])].reset_index(drop=True)
    )

    # the full history arrives. Mark the window's day in every incremental table, and a day just
    # before the window in the site table and the feature table (their rows outside the window
    # feed nothing this run reads; the item table's feed the features' look-back)
    _write_raw_lake(lake)
    window_day, outside_day = days[TRUNCATE_AT - 5], days[TRUNCATE_AT - 6]
    outside_marked = {"fct_item_site_daily_demand", "feat_item_daily"}
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        for table in INCREMENTAL_MODELS:
            marked_days = [window_day, outside_day] if table in outside_marked else [window_day, window_day]
            con.execute(f"update main.{table} set demand = -1 where date in (?, ?)", marked_days)
    window = {"start_date": window_day.isoformat(), "end_date": days[TRUNCATE_AT - 4].isoformat()}
    _dbt(lake, "run", extra=("--vars", json.dumps(window)))

    for table in INCREMENTAL_MODELS:
        incremental, full = _table(lake, table), _table(lake_a, table)
        assert len(incremental) == len(full)
        marked = (incremental["date"] == pd.Timestamp(outside_day)) & (table in outside_marked)
        assert (incremental.loc[marked, "demand"] == -1).all(), f"{table}: a day outside the window was rewritten"
        # the window's day and the new days after the table's last day equal the full build, exactly
        pd.testing.assert_frame_equal(incremental[~marked], full[~marked])
    # the silver exports hold the whole table, not only the rewritten days
    assert len(_silver(lake, "feat_item_daily")) == len(feat_a)
    assert len(_silver(lake, "fct_item_daily_demand")) == len(feat_a)


def test_a_new_material_site_pair_makes_the_incremental_run_rewrite_every_day(
    tmp_path: Path, env: pytest.MonkeyPatch
) -> None:
    """The incremental run compares the grid's keys with the table's last day (every day holds the
    same keys): a material x site pair seen for the first time rewrites every day, as a full build."""
    lake, reference = tmp_path / "lake_e", tmp_path / "lake_f"
    days = _days()
    _write_raw_lake(lake, last_day_index=TRUNCATE_AT)
    env.setenv("NOVA_LAKE_DIR", str(lake))
    _dbt(lake, "run")
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:  # a day long before the window
        con.execute("update main.fct_item_site_daily_demand set demand = -1 where date = ?", [days[10]])
    for target in (lake, reference):  # the full history, with M4's first movement ever on the last day
        _write_raw_lake(target)
        path = target / "raw" / "erp_movements.parquet"
        movements = pd.read_parquet(path)
        first = {"movement_date": days[-1], "material_id": "M4", "site_id": "WH-SSA", "movement_type": "issue"}
        movements.loc[len(movements)] = {**first, "quantity": 2.0, "source_file": "erp_e.csv"}
        movements.to_parquet(path, index=False)
    window = {"start_date": days[-1].isoformat(), "end_date": (days[-1] + dt.timedelta(days=1)).isoformat()}
    _dbt(lake, "run", extra=("--vars", json.dumps(window)))
    env.setenv("NOVA_LAKE_DIR", str(reference))
    _dbt(reference, "run")
    site = _table(lake, "fct_item_site_daily_demand")
    assert len(site[(site["material_id"] == "M4") & (site["site_id"] == "WH-SSA")]) == len(days)
    for table in INCREMENTAL_MODELS:
        pd.testing.assert_frame_equal(_table(lake, table), _table(reference, table), obj=table)


def test_full_refresh_reason(tmp_path: Path, lake_a: Path) -> None:
    from nova_assets.defs.transform.warehouse import full_refresh_reason, load_manifest

    manifest = load_manifest(lake_a / "dbt_target" / "manifest.json")
    assert full_refresh_reason(lake_a / "warehouse.duckdb", manifest) is None
    assert "does not exist" in full_refresh_reason(tmp_path / "none.duckdb", manifest)
    with duckdb.connect(str(lake_a / "warehouse.duckdb")) as con:
        con.execute("checkpoint")  # the copies below must not miss what is still in the WAL
    for name, change, reason in [
        ("dropped", "alter table main.feat_item_daily drop column trend", "columns of main.feat_item_daily changed"),
        ("missing", "drop table main.feat_item_daily", "table main.feat_item_daily does not exist"),
        ("empty", "delete from main.fct_item_daily_demand", "table main.fct_item_daily_demand is empty"),
    ]:
        copy = tmp_path / f"{name}.duckdb"
        shutil.copy(lake_a / "warehouse.duckdb", copy)
        with duckdb.connect(str(copy)) as con:
            con.execute(change)
        assert reason in (full_refresh_reason(copy, manifest) or ""), name


def test_dagster_materializes_a_partition_with_its_window(
    tmp_path: Path, env: pytest.MonkeyPatch, lake_a: Path, feat_a: pd.DataFrame
) -> None:
    """The partitioned dbt assets, in process: one partition -> `dbt build --vars` with its window,
    incremental (the warehouse is there), every dbt test a passing asset check. (A first run on
    an empty warehouse switches to --full-refresh by itself: test_full_refresh_reason, and the
    whole daily cycle in test_daily_cycle.py.)"""
    import dagster as dg

    from nova_assets.dbt_projects import dbt_resource, features_project
    from nova_assets.defs.transform.features import dbt_features

    with duckdb.connect(str(lake_a / "warehouse.duckdb")) as con:
        con.execute("checkpoint")
    lake = tmp_path / "lake_e"
    shutil.copytree(lake_a, lake, ignore=shutil.ignore_patterns("dbt_target", "dbt_logs"))
    env.setenv("NOVA_LAKE_DIR", str(lake))
    days = _days()
    day = days[-3]
    # mark the partition's day and the day before; unit_cost has no dbt test, so the marks fail no check
    with duckdb.connect(str(lake / "warehouse.duckdb")) as con:
        con.execute("update main.feat_item_daily set unit_cost = -1 where date in (?, ?)", [day, days[-4]])

    result = dg.materialize(
        [dbt_features],
        partition_key=day.isoformat(),
        resources={"dbt": dbt_resource(features_project)},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 150
    assert all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]
    events = {e.asset_key.to_user_string(): e for e in result.get_asset_materialization_events()}
    assert {"stg_erp__movements", "int_calendar_spine", "fct_item_daily_demand", "feat_item_daily"} <= set(events)
    feat_event = events["feat_item_daily"]
    assert feat_event.partition == day.isoformat()
    assert {k: v.value for k, v in feat_event.materialization.metadata.items() if k.startswith("dbt_")} == {
        "dbt_window_start": day.isoformat(),
        "dbt_window_end_exclusive": days[-2].isoformat(),
        "dbt_full_refresh": False,
        "dbt_full_refresh_reason": "",
    }
    # the partition's day was rewritten, the day before was not; the export holds the whole table
    feat = _silver(lake, "feat_item_daily")
    before = feat["date"] == pd.Timestamp(days[-4])
    assert (feat.loc[before, "unit_cost"] == -1).all()
    pd.testing.assert_frame_equal(feat[~before], feat_a[~before])
