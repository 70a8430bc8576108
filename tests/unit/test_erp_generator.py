"""The synthetic business: deterministic, ERP-shaped, and with the demand patterns it promises."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.maintenance.contracts import MAINTENANCE_TABLES
from nova_assets.lib.sample.erp_generator import MAX_EARLY_DAYS, SUPPLIERS, generate_sample_business
from nova_assets.lib.sources.erp_files import ERP_TABLES, classify_erp_file, read_erp_file

START, END = date(2023, 1, 1), date(2024, 12, 31)
DAYS = pd.date_range(START, END, freq="D")
HEAVY_RAIN = np.random.default_rng(11).uniform(size=len(DAYS)) < 0.12
HOLIDAYS = {d.date() for d in DAYS[DAYS.weekday < 5][5::15]}  # ~50 weekdays


@pytest.fixture(scope="module")
def business(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    weather = pd.DataFrame({"date": DAYS.date, "precipitation_mm": np.where(HEAVY_RAIN, 80.0, 0.0)})
    return generate_sample_business(
        tmp_path_factory.mktemp("business"),
        n_materials=120,
        n_sites=6,
        start=START,
        end=END,
        seed=3,
        weather_daily=weather,
        holidays=HOLIDAYS,
    )


@pytest.fixture(scope="module")
def daily_issues(business: dict[str, Path]) -> pd.Series:
    movements = pd.read_csv(business["movements"], parse_dates=["movement_date"])
    issues = movements[movements["movement_type"] == "issue"]
    return issues.groupby("movement_date")["quantity"].sum().reindex(DAYS, fill_value=0)


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    def run(folder: str, seed: int) -> dict[str, bytes]:
        paths = generate_sample_business(
            tmp_path / folder, n_materials=25, n_sites=4, start=date(2024, 1, 1), end=date(2024, 6, 30), seed=seed
        )
        return {name: path.read_bytes() for name, path in paths.items()}

    first, second, other = run("a", 42), run("b", 42), run("c", 43)
    assert first == second
    assert first["movements"] != other["movements"]


def test_writes_erp_files_with_the_contract_columns(business: dict[str, Path]) -> None:
    headers = {
        name: pd.read_csv(path, nrows=0).columns.tolist()
        for name, path in business.items()
        if path.suffix == ".csv" and path.parent.name != "anatel"
    }
    assert headers == {
        "materials": [
            "material_id",
            "description",
            "category",
            "unit",
            "unit_cost",
            "criticality",
            "supplier_id",
            "supersedes",
        ],
        "sites": [
            "site_id",
            "site_name",
            "site_type",
            "region",
            "state",
            "municipality",
            "ibge_code",
            "latitude",
            "longitude",
            "sla_penalty_brl_day",
        ],
        "suppliers": ["supplier_id", "supplier_name", "lead_time_mean_days", "lead_time_std_days"],
        "movements": ["movement_id", "movement_date", "material_id", "site_id", "movement_type", "quantity", "po_id"],
        "stock_on_hand": ["snapshot_date", "material_id", "site_id", "on_hand"],
        "open_orders": ["po_id", "material_id", "supplier_id", "quantity", "order_date", "expected_date"],
        "purchase_order_history": [
            "po_id",
            "material_id",
            "supplier_id",
            "site_id",
            "quantity",
            "order_date",
            "promised_date",
        ],
    }
    note = business["synthetic_note"].read_text(encoding="utf-8")
    assert note.startswith("SYNTHETIC DATA") and "seed 3" in note


def test_catalogue_suppliers_and_sites_are_plausible(business: dict[str, Path]) -> None:
    materials = pd.read_csv(business["materials"])
    suppliers = pd.read_csv(business["suppliers"])
    sites = pd.read_csv(business["sites"], dtype={"ibge_code": str})
    assert len(materials) == 120 and materials["material_id"].is_unique
    assert set(materials["criticality"]) == {"A", "B", "C"}
    assert set(materials["supplier_id"]) <= set(suppliers["supplier_id"])
    assert materials.groupby("category")["unit_cost"].median()["Radio Units"] > 10_000
    assert len(suppliers) == 8
    assert suppliers["lead_time_mean_days"].between(5, 45).all()
    assert (suppliers["lead_time_std_days"] > 0).all()
    warehouses = sites[sites["site_type"] == "warehouse"]
    assert len(warehouses) == 2 and set(warehouses["ibge_code"]) == {"2927408"}
    assert (sites["state"] == "BA").all() and sites["ibge_code"].str.fullmatch(r"29\d{5}").all()
    feira = sites[sites["municipality"] == "Feira de Santana"]
    assert feira["ibge_code"].tolist() == ["2910800"]
    assert sites["latitude"].between(-18.5, -8.5).all() and sites["longitude"].between(-46.7, -37.3).all()


def test_all_four_demand_classes_occur_in_the_planned_mix(business: dict[str, Path]) -> None:
    movements = pd.read_csv(business["movements"])
    issues = movements[movements["movement_type"] == "issue"]
    per_day = issues.groupby(["material_id", "movement_date"])["quantity"].sum()
    stats = per_day.groupby(level="material_id").agg(["size", "mean", "std"])
    adi = len(DAYS) / stats["size"]
    cv2 = (stats["std"] / stats["mean"]) ** 2
    classes = pd.Series(
        np.select(
            [(adi < 1.32) & (cv2 < 0.49), adi < 1.32, cv2 < 0.49], ["smooth", "erratic", "intermittent"], "lumpy"
        ),
        index=stats.index,
    )
    shares = classes.value_counts(normalize=True)
    expected = {"smooth": 0.15, "erratic": 0.15, "intermittent": 0.45, "lumpy": 0.25}
    assert set(shares.index) == set(expected)
    for cls, share in expected.items():
        assert abs(shares[cls] - share) < 0.07, (cls, shares[cls])
    assert (adi > 1.32).mean() > 0.6  # most items do not move every day


def test_weekends_have_fewer_issues(daily_issues: pd.Series) -> None:
    weekday = daily_issues[DAYS.weekday < 5].mean()
    weekend = daily_issues[DAYS.weekday >= 5].mean()
    assert weekend < 0.6 * weekday


def test_heavy_rain_raises_demand(daily_issues: pd.Series) -> None:
    working = (DAYS.weekday < 5) & ~DAYS.isin(pd.to_datetime(sorted(HOLIDAYS)))
    day_after = np.concatenate(([False], HEAVY_RAIN[:-1]))
    rainy = daily_issues[working & HEAVY_RAIN].mean()
    dry = daily_issues[working & ~HEAVY_RAIN & ~day_after].mean()
    assert rainy > 1.12 * dry


def test_holidays_lower_demand(daily_issues: pd.Series) -> None:
    holiday = DAYS.isin(pd.to_datetime(sorted(HOLIDAYS)))
    working = (DAYS.weekday < 5) & ~holiday
    assert daily_issues[holiday].mean() < 0.6 * daily_issues[working].mean()


def test_anatel_export_has_emissions_and_a_growing_5g_rollout(business: dict[str, Path]) -> None:
    stations = pd.read_csv(business["anatel_stations"], sep=";", dtype=str)
    assert stations.columns.tolist() == [
        "NomeEntidade",
        "NumEstacao",
        "SiglaUf",
        "CodMunicipio",
        "Tecnologia",
        "DataLicenciamento",
        "DataPrimeiroLicenciamento",
        "Latitude",
        "Longitude",
    ]
    assert set(stations["Tecnologia"]) == {"GSM", "WCDMA", "LTE", "NR"}
    assert stations.duplicated(["NumEstacao", "Tecnologia"]).any()  # one row per emission
    assert "2927408" in set(stations["CodMunicipio"]) and stations["CodMunicipio"].nunique() >= 10
    assert (stations["DataLicenciamento"] >= stations["DataPrimeiroLicenciamento"]).all()
    assert stations["DataLicenciamento"].max() <= END.isoformat()
    nr = stations[stations["Tecnologia"] == "NR"].drop_duplicates("NumEstacao")
    per_year = nr["DataPrimeiroLicenciamento"].str[:4].value_counts()
    assert per_year["2024"] > per_year["2023"] > 0


def test_demand_trends_up_with_5g(daily_issues: pd.Series) -> None:
    by_year = daily_issues.groupby(daily_issues.index.year).mean()
    assert by_year[2024] > by_year[2023]


def test_stock_and_open_orders_close_the_period(business: dict[str, Path]) -> None:
    stock = pd.read_csv(business["stock_on_hand"])
    orders = pd.read_csv(business["open_orders"])
    materials = pd.read_csv(business["materials"]).set_index("material_id")
    assert (stock["snapshot_date"] == END.isoformat()).all()
    assert (stock["on_hand"] >= 0).all() and (stock["on_hand"] == 0).any()
    assert stock.groupby("material_id")["on_hand"].sum().reindex(materials.index).notna().all()
    assert len(orders) > 0 and orders["po_id"].is_unique
    assert (orders["expected_date"] > END.isoformat()).all()
    assert (orders["order_date"] <= END.isoformat()).all()
    expected_supplier = materials.loc[orders["material_id"], "supplier_id"].to_numpy()
    assert (orders["supplier_id"].to_numpy() == expected_supplier).all()
    movements = pd.read_csv(business["movements"])
    totals = movements.groupby("movement_type")["quantity"].sum()
    assert 0.8 < totals["receipt"] / totals["issue"] < 1.2  # replenishment follows demand


@pytest.fixture(scope="module")
def purchase_orders(business: dict[str, Path]) -> pd.DataFrame:
    """The PO history joined with the receipts that reference it (received_on NaT: still open)."""
    history = pd.read_csv(
        business["purchase_order_history"], parse_dates=["order_date", "promised_date"], dtype={"po_id": str}
    )
    movements = pd.read_csv(business["movements"], parse_dates=["movement_date"], dtype={"po_id": str})
    receipts = movements[movements["po_id"].notna()]
    assert (receipts["movement_type"] == "receipt").all()
    assert receipts["po_id"].is_unique  # one delivery per PO line
    received = receipts.set_index("po_id")[["movement_date", "material_id", "site_id", "quantity"]]
    return history.join(received, on="po_id", rsuffix="_received").rename(columns={"movement_date": "received_on"})


def test_every_po_receipt_matches_its_order_in_the_history(business: dict[str, Path], purchase_orders):
    history = purchase_orders
    assert history["po_id"].is_unique and history["po_id"].str.fullmatch(r"45\d{8}").all()
    movements = pd.read_csv(business["movements"], dtype={"po_id": str, "movement_id": str})
    assert set(movements["po_id"].dropna()) <= set(history["po_id"])  # no receipt of an unknown PO
    assert movements["movement_id"].is_unique
    received = history[history["received_on"].notna()]
    assert (received["material_id"] == received["material_id_received"]).all()
    assert (received["site_id"] == received["site_id_received"]).all()
    assert (received["quantity"] == received["quantity_received"]).all()
    assert (received["received_on"] > received["order_date"]).all()
    assert (history["promised_date"] > history["order_date"]).all()
    materials = pd.read_csv(business["materials"]).set_index("material_id")
    assert (history["supplier_id"].to_numpy() == materials.loc[history["material_id"], "supplier_id"].to_numpy()).all()
    # some receipts cover stock-outs without an order (emergency), the rest come from POs
    receipts = movements[movements["movement_type"] == "receipt"]
    assert 0.3 < receipts["po_id"].notna().mean() < 1


def test_open_orders_are_exactly_the_orders_not_yet_received(business: dict[str, Path], purchase_orders):
    open_orders = pd.read_csv(business["open_orders"], dtype={"po_id": str})
    not_received = purchase_orders[purchase_orders["received_on"].isna()]
    assert sorted(open_orders["po_id"]) == sorted(not_received["po_id"])
    assert len(open_orders) < 0.05 * len(purchase_orders)


def test_suppliers_differ_in_punctuality_as_profiled(purchase_orders: pd.DataFrame) -> None:
    received = purchase_orders[purchase_orders["received_on"].notna()]
    late_days = (received["received_on"] - received["promised_date"]).dt.days
    assert late_days.min() >= -MAX_EARLY_DAYS
    on_time = (late_days <= 0).groupby(received["supplier_id"]).agg(["mean", "size"])
    profile = {s.supplier_id: s.on_time_share for s in SUPPLIERS}
    measured = on_time[on_time["size"] >= 200]
    assert len(measured) >= 4
    for supplier, row in measured.iterrows():
        assert abs(row["mean"] - profile[supplier]) < 0.1, (supplier, row["mean"])
    assert measured["mean"].max() - measured["mean"].min() > 0.2  # reliable and unreliable suppliers
    lead_time = (received["received_on"] - received["order_date"]).dt.days
    assert lead_time.groupby(received["material_id"]).std().median() > 0  # lead times are noisy


def test_generated_files_import_without_quarantine(business: dict[str, Path]) -> None:
    imported = set()
    for name, path in business.items():
        table = classify_erp_file(path)
        if table is None:
            assert name in {"anatel_stations", "synthetic_note"}, f"{path.name} is named as no ERP table"
            continue
        result = read_erp_file(path, table)
        assert result.file_error is None and result.quarantine.empty, (path.name, result.messages()[:3])
        assert len(result.good) == len(pd.read_csv(path))
        imported.add(table)
    # every ERP table but the maintenance exports (test_maintenance_contracts imports those)
    assert imported == set(ERP_TABLES) - set(MAINTENANCE_TABLES)


def test_the_demos_full_size_business_has_every_material_and_site(tmp_path: Path) -> None:
    """`make run`'s size (its speed is bench/erp_import_bench.py's, not a test's)."""
    paths = generate_sample_business(
        tmp_path, n_materials=300, n_sites=12, start=date(2022, 11, 12), end=date(2025, 11, 11)
    )
    assert pd.read_csv(paths["materials"])["material_id"].nunique() == 300
    assert pd.read_csv(paths["sites"])["site_id"].nunique() == 12


def test_rejects_an_empty_period(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be after start"):
        generate_sample_business(tmp_path, start=date(2024, 1, 1), end=date(2024, 1, 1))


def test_with_the_recorded_weather_the_movements_of_maintenance_parts_are_the_work_orders(tmp_path: Path) -> None:
    from nova_assets.lib.maintenance.parts_demand import order_parts
    from tests.unit import maintenance_data

    start, end = date(2024, 11, 11), date(2025, 11, 10)
    paths = generate_sample_business(
        tmp_path, n_materials=150, n_sites=8, start=start, end=end, seed=5, weather_daily=maintenance_data.weather()
    )
    tables = {}
    for name, table in (
        ("installed_base", "erp_installed_base"),
        ("work_orders", "erp_work_orders"),
        ("work_order_parts", "erp_work_order_parts"),
        ("materials", "erp_materials"),
    ):
        assert classify_erp_file(paths[name]) == table
        result = read_erp_file(paths[name], table)
        assert result.quarantine.empty, result.messages()[:3]
        tables[name] = result.good
    orders = tables["work_orders"]
    assert {"preventive", "corrective"} == set(orders["kind"])
    assert (pd.to_datetime(orders["planned_date"]) > pd.Timestamp(end)).any()  # the plan is known ahead
    successors = tables["materials"].dropna(subset=["supersedes"])
    assert len(successors) >= 1 and set(successors["supersedes"]) <= set(tables["materials"]["material_id"])
    issued = order_parts(orders, tables["work_order_parts"])
    issued = issued[pd.to_datetime(issued["movement_date"]) <= pd.Timestamp(end)]
    movements = pd.read_csv(paths["movements"], parse_dates=["movement_date"])
    issues = movements[(movements["movement_type"] == "issue") & movements["material_id"].isin(issued["material_id"])]
    expected = issued.assign(
        movement_date=pd.to_datetime(issued["movement_date"]), quantity=np.ceil(issued["quantity"])
    )
    by_day = ["material_id", "movement_date"]
    pd.testing.assert_series_equal(
        issues.groupby(by_day)["quantity"].sum().astype(float),
        expected.groupby(by_day)["quantity"].sum().astype(float),
    )
    note = paths["synthetic_note"].read_text(encoding="utf-8")
    assert "work_orders.csv" in note and "k=2.2" in note
