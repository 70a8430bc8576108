"""Raw-table checks: each one passes on the recorded data and fails on crafted bad data."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from nova_assets.lib.sources import bacen_ptax, bacen_sgs, ibge_sidra, openmeteo
from nova_assets.lib.sources.holidays_calendar import build_holidays
from nova_assets.lib.sources.quality import (
    RULES,
    CheckContext,
    CheckOutcome,
    evaluate,
    expected_dates,
    latest_date,
    quality_score,
    read_statuses,
    resolve_as_of,
    write_status,
)
from nova_assets.lib.sources.snapshots import RECORDED_ON, load_snapshot

AS_OF = date(2025, 11, 11)
MATERIALS = frozenset({"MAT-1", "MAT-2"})
SITES = frozenset({"WH-1"})


def outcomes(table: str, frame: pd.DataFrame, **context) -> dict[str, CheckOutcome]:
    ctx = CheckContext(as_of=context.pop("as_of", AS_OF), materials=MATERIALS, sites=SITES, **context)
    return {o.name: o for o in evaluate(table, frame, ctx)}


def failed(table: str, frame: pd.DataFrame, **context) -> dict[str, str]:
    return {name: o.description for name, o in outcomes(table, frame, **context).items() if not o.passed}


def movements(**overrides) -> pd.DataFrame:
    rows = {
        "movement_date": [date(2025, 11, 9), date(2025, 11, 10)],
        "material_id": ["MAT-1", "MAT-2"],
        "site_id": ["WH-1", "WH-1"],
        "movement_type": ["issue", "receipt"],
        "quantity": [2.0, 5.0],
        "movement_id": [None, None],
        "po_id": [None, "PO-1"],
        "source_file": ["movements.csv"] * 2,
    }
    return pd.DataFrame({**rows, **overrides})


RECORDED = {
    "weather_daily": lambda: openmeteo.parse_openmeteo(load_snapshot(openmeteo.SNAPSHOT)),
    "economics_selic": lambda: bacen_sgs.parse_sgs(load_snapshot(bacen_sgs.SNAPSHOT_SELIC)),
    "economics_usd_brl": lambda: bacen_ptax.parse_ptax(load_snapshot(bacen_ptax.SNAPSHOT)),
    "economics_ipca": lambda: ibge_sidra.parse_sidra(load_snapshot(ibge_sidra.SNAPSHOT)),
    "holidays": lambda: build_holidays(range(2015, 2027)),
}


@pytest.mark.parametrize("table", RECORDED)
def test_recorded_sources_pass_every_check_as_of_their_recording_day(table: str) -> None:
    results = outcomes(table, RECORDED[table]())
    assert list(results) == RULES[table].check_names()
    assert {name: o.description for name, o in results.items() if not o.passed} == {}
    assert quality_score(list(results.values())) == 1.0


def test_clean_movements_pass() -> None:
    assert failed("erp_movements", movements(), good_rows=2) == {}


def test_schema_fails_on_a_missing_column_a_wrong_type_or_a_missing_value() -> None:
    found = failed("erp_movements", movements().drop(columns="site_id"))
    assert "missing columns ['site_id']" in found["schema"]
    assert found["date_range"] == "not evaluated: the schema check failed"
    as_text = movements(quantity=["2", "5"])
    assert "wrong types {'quantity': 'string (expected float)'}" in failed("erp_movements", as_text)["schema"]
    as_timestamps = movements(movement_date=pd.to_datetime(["2025-11-09", "2025-11-10"]))
    assert "movement_date" in failed("erp_movements", as_timestamps)["schema"]
    blank = movements(material_id=["MAT-1", None])
    assert "missing values in required columns {'material_id': 1}" in failed("erp_movements", blank)["schema"]
    assert "0 rows (at least 1 expected)" in failed("erp_movements", movements().iloc[:0])["schema"]


def test_a_table_without_its_date_column_fails_schema_without_crashing() -> None:
    frame = pd.DataFrame({"value": [1.0]})
    found = failed("economics_selic", frame)
    assert "missing columns ['date']" in found["schema"] and set(found) == set(RULES["economics_selic"].check_names())
    assert latest_date(frame, RULES["economics_selic"].freshness) is None


def test_open_orders_may_be_empty() -> None:
    empty = pd.DataFrame(
        {c: pd.Series(dtype="float64" if k == "float" else object) for c, k in RULES["erp_open_orders"].columns.items()}
    )
    assert failed("erp_open_orders", empty, good_rows=0) == {}


def test_date_range_fails_on_future_and_ancient_dates() -> None:
    found = outcomes("erp_movements", movements(movement_date=[date(2025, 11, 12), date(1999, 12, 31)]))
    assert not found["date_range"].passed and found["date_range"].score == 0.0
    assert found["date_range"].metadata["movement_date"] == {
        "rows": 2, "allowed": "2000-01-01..2025-11-11", "examples": ["1999-12-31", "2025-11-12"],
    }  # fmt: skip


def test_open_orders_may_be_expected_in_the_future_but_not_ordered_there() -> None:
    orders = pd.DataFrame({
        "po_id": ["PO-1", "PO-2"], "material_id": ["MAT-1", "MAT-2"], "supplier_id": ["S", "S"],
        "quantity": [1.0, 2.0], "order_date": [date(2025, 11, 1), date(2025, 11, 20)],
        "expected_date": [date(2026, 3, 1), date(2026, 1, 1)],
    })  # fmt: skip
    assert set(failed("erp_open_orders", orders)) == {"date_range"}
    assert outcomes("erp_open_orders", orders)["date_range"].metadata["order_date"]["examples"] == ["2025-11-20"]


def test_duplicates_on_the_key_fail() -> None:
    twice = pd.concat([movements(), movements().iloc[:1]], ignore_index=True)
    found = outcomes("erp_movements", twice)
    assert not found["unique_key"].passed
    assert found["unique_key"].metadata["failing_rows"] == 1
    assert found["unique_key"].score == pytest.approx(2 / 3, abs=1e-6)


def test_movements_with_document_numbers_are_unique_by_number() -> None:
    same_business_row = movements(
        material_id=["MAT-1", "MAT-1"],
        movement_type=["issue", "issue"],
        quantity=[2.0, 2.0],
        movement_date=[date(2025, 11, 9)] * 2,
    )
    assert not outcomes("erp_movements", same_business_row)["unique_key"].passed  # no id: one movement twice
    two_documents = same_business_row.assign(movement_id=["D1", "D2"])
    assert outcomes("erp_movements", two_documents)["unique_key"].passed  # two documents: two movements
    one_document_twice = movements(movement_id=["D1", "D1"])
    found = outcomes("erp_movements", one_document_twice)["unique_key"]
    assert not found.passed and found.metadata["examples"] == ["D1"]


def test_purchase_order_history_rules() -> None:
    orders = pd.DataFrame({
        "po_id": ["P1", "P1", "P2"], "material_id": ["MAT-1", "MAT-2", "MAT-9"], "supplier_id": ["S", "S", "S"],
        "site_id": ["WH-1", None, "TWR-X"], "quantity": [1.0, 2.0, 3.0],
        "order_date": [date(2025, 11, 1), date(2025, 11, 1), date(2025, 11, 12)],
        "promised_date": [date(2025, 11, 8), date(2025, 11, 8), date(2025, 12, 1)],
    })  # fmt: skip
    assert list(outcomes("erp_purchase_orders", orders)) == [
        "schema",
        "date_range",
        "unique_key",
        "non_negative",
        "known_materials",
        "known_sites",
        "plausible",  # issue 16 item 3: values outside their plausible range are held back
        "rows_loaded",
    ]
    assert failed("erp_purchase_orders", orders.iloc[:2]) == {}
    found = failed("erp_purchase_orders", orders)
    assert set(found) == {"date_range", "known_materials", "known_sites"}  # ordered after the as-of date
    assert failed("erp_purchase_orders", orders.iloc[[0, 0]])["unique_key"].startswith("1 of 2 rows fail")
    assert failed("erp_purchase_orders", orders.iloc[:0], good_rows=0) == {}  # no PO export is valid


def test_negative_quantities_fail() -> None:
    assert "quantity" in failed("erp_movements", movements(quantity=[2.0, -1.0]))["non_negative"]


def test_unknown_material_and_site_codes_fail() -> None:
    found = outcomes("erp_movements", movements(material_id=["MAT-1", "MAT-9"], site_id=["WH-1", "TWR-X"]))
    assert not found["known_materials"].passed and found["known_materials"].metadata["examples"] == ["MAT-9"]
    assert not found["known_sites"].passed and found["known_sites"].metadata["examples"] == ["TWR-X"]
    assert found["known_materials"].blocking and not found["known_sites"].blocking


def test_gaps_in_daily_business_and_monthly_series_fail() -> None:
    selic = pd.DataFrame({"date": [date(2025, 11, 1), date(2025, 11, 2), date(2025, 11, 4)], "value": [15.0] * 3})
    found = outcomes("economics_selic", selic)["no_gaps"]
    assert not found.passed and found.metadata["missing_examples"] == ["2025-11-03"]
    # PTAX: the weekend and the Republic day (15 Nov 2024, a Friday) are no gap, a missing Monday is
    ptax = pd.DataFrame({"date": [date(2024, 11, 14), date(2024, 11, 19)], "value": [5.7, 5.8]})
    assert outcomes("economics_usd_brl", ptax)["no_gaps"].metadata["missing_examples"] == ["2024-11-18"]
    ipca = pd.DataFrame({"month": [date(2025, 7, 1), date(2025, 9, 1)], "value": [0.26, 0.48]})
    assert outcomes("economics_ipca", ipca)["no_gaps"].metadata["missing_examples"] == ["2025-08-01"]


def test_business_days_follow_the_b3_calendar() -> None:
    days = expected_dates(date(2025, 3, 1), date(2025, 3, 7), "business")
    assert [d.date() for d in days] == [date(2025, 3, 5), date(2025, 3, 6), date(2025, 3, 7)]  # Carnaval Mon/Tue


def test_freshness_fails_when_late_or_on_a_fallback() -> None:
    selic = bacen_sgs.parse_sgs(load_snapshot(bacen_sgs.SNAPSHOT_SELIC))
    assert outcomes("economics_selic", selic)["fresh"].passed
    late = outcomes("economics_selic", selic, as_of=date(2025, 11, 20))["fresh"]
    assert not late.passed and "9 days before the as-of date 2025-11-20 (at most 3)" in late.description
    fallback = outcomes("economics_selic", selic, origin="snapshot x.json", fallback=True)["fresh"]
    assert not fallback.passed and fallback.description == "stale: live fetch failed, data from snapshot x.json"


def test_weather_freshness_ignores_trailing_days_without_values() -> None:
    weather = openmeteo.parse_openmeteo(load_snapshot(openmeteo.SNAPSHOT))
    weather.loc[weather.index[-10:], ["temp_avg", "temp_max", "temp_min"]] = float("nan")
    assert not outcomes("weather_daily", weather)["fresh"].passed


def test_rows_loaded_fails_on_many_quarantined_rows_or_a_rejected_file() -> None:
    assert failed("erp_movements", movements(), good_rows=200, quarantined_rows=2) == {}
    many = outcomes("erp_movements", movements(), good_rows=2, quarantined_rows=1)["rows_loaded"]
    assert not many.passed and many.score == pytest.approx(2 / 3)
    rejected = failed("erp_movements", movements(), good_rows=2, rejected_files=["x.csv: empty file"])
    assert rejected == {"rows_loaded": "rejected in this run: x.csv: empty file"}


def test_quality_score_is_the_mean_of_the_check_scores() -> None:
    checks = [CheckOutcome("schema", True, 1.0, ""), CheckOutcome("fresh", False, 0.0, ""),
              CheckOutcome("unique_key", False, 0.75, "")]  # fmt: skip
    assert quality_score(checks) == pytest.approx(0.583)
    assert quality_score([]) == 0.0


def test_as_of_date() -> None:
    assert resolve_as_of("2024-05-02", offline=True, recorded_on=RECORDED_ON) == date(2024, 5, 2)
    assert resolve_as_of("", offline=True, recorded_on=RECORDED_ON) == RECORDED_ON == AS_OF
    assert resolve_as_of(" ", offline=False, recorded_on=RECORDED_ON) > RECORDED_ON
    with pytest.raises(ValueError, match="NOVA_AS_OF_DATE='11/11/2025': expected a date as YYYY-MM-DD"):
        resolve_as_of("11/11/2025", offline=True, recorded_on=RECORDED_ON)


def test_status_files_round_trip(tmp_path) -> None:
    write_status(tmp_path, "economics_selic", {"table": "economics_selic", "quality_score": 0.5})
    write_status(tmp_path, "weather_daily", {"table": "weather_daily", "quality_score": 1.0})
    assert read_statuses(tmp_path).to_dict("records") == [
        {"table": "economics_selic", "quality_score": 0.5},
        {"table": "weather_daily", "quality_score": 1.0},
    ]
