"""Life cycle of parts: supersession chains, history carried forward, old stock first; phase-out,
coverage flags and the obsolescence KPI. Failure clusters per site and type."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.demand_history import history_from_demand
from nova_assets.lib.inventory.daily import DailyInputs, on_successors, stock_position
from nova_assets.lib.maintenance.clusters import CLUSTER_COLUMNS, failure_clusters
from nova_assets.lib.maintenance.lifecycle import (
    ACTIVE_BASE,
    NO_INSTALLED_BASE,
    PHASING_OUT,
    apply_phase_out,
    consume_old_first,
    installed_base_coverage,
    obsolescence_kpi,
    obsolescence_risk,
    remaining_life_demand,
    successor_map,
    successor_stock,
    supersession_chains,
    to_successor,
)
from nova_assets.lib.maintenance.parts_demand import where_used
from nova_assets.lib.sample.maintenance_generator import PHASE_OUTS
from tests.unit import maintenance_data
from tests.unit.maintenance_data import END, START

MATERIALS = pd.DataFrame(
    {
        "material_id": ["A", "B", "C", "X", "Y"],
        "supersedes": [None, "A", "B", None, ""],
        "unit_cost": [10.0, 12.0, 15.0, 100.0, 5.0],
    }
)


def test_chains_resolve_to_the_last_successor_oldest_first() -> None:
    chains = supersession_chains(MATERIALS)
    assert chains == {"C": ("A", "B")}
    assert successor_map(chains) == {"A": "C", "B": "C"}
    assert to_successor(pd.Series(["A", "B", "X"]), successor_map(chains)).tolist() == ["C", "C", "X"]
    with pytest.raises(ValueError, match="more than one successor"):
        supersession_chains(pd.DataFrame({"material_id": ["B", "C"], "supersedes": ["A", "A"]}))
    with pytest.raises(ValueError, match="cycle"):
        supersession_chains(pd.DataFrame({"material_id": ["A", "B", "D"], "supersedes": ["B", "A", "E"]}))


def test_history_is_carried_forward_and_stock_pooled_on_the_successor() -> None:
    history = pd.DataFrame(
        {
            "unique_id": ["A", "A", "B", "C", "X"],
            "ds": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-02", "2025-01-03", "2025-01-01"]),
            "y": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    successors = successor_map(supersession_chains(MATERIALS))
    demand = history.rename(columns={"unique_id": "material_id", "ds": "date", "y": "demand"})
    with duckdb.connect() as con:
        moved = history_from_demand(con, con.from_df(demand), successors)
        only_c = history_from_demand(con, con.from_df(demand), successors, keep=lambda uid: uid == "C")
    assert moved.values.tolist() == [
        ["C", pd.Timestamp("2025-01-01"), 1.0],
        ["C", pd.Timestamp("2025-01-02"), 5.0],
        ["C", pd.Timestamp("2025-01-03"), 4.0],
        ["X", pd.Timestamp("2025-01-01"), 5.0],
    ]
    assert moved["y"].sum() == history["y"].sum()
    assert moved.dtypes.tolist() == [object, "datetime64[ns]", float]
    pd.testing.assert_frame_equal(only_c, moved[moved["unique_id"] == "C"])  # A and B go with their successor
    stock = pd.DataFrame(
        {"material_id": ["A", "B", "C", "C"], "site_id": ["S1", "S1", "S1", "S2"], "on_hand": [2.0, 3, 1, 4]}
    )
    pooled = successor_stock(stock, successors)
    assert pooled.values.tolist() == [["C", "S1", 6.0, 5.0], ["C", "S2", 4.0, 0.0]]


def test_old_stock_is_consumed_first_oldest_link_first() -> None:
    forecast = pd.DataFrame(
        {
            "unique_id": ["C"] * 4 + ["X"] * 4,
            "ds": list(pd.date_range("2025-02-01", periods=4)) * 2,
            "model": "Ensemble",
            "forecast": [2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0],
        }
    )
    stock = pd.DataFrame({"material_id": ["A", "B", "C"], "site_id": "S1", "on_hand": [3.0, 2.0, 10.0]})
    split = consume_old_first(forecast, stock, supersession_chains(MATERIALS))
    by_part = split.pivot_table(index="ds", columns="unique_id", values="forecast")
    assert by_part["A"].tolist() == [2.0, 1.0, 0.0, 0.0]  # the oldest part first
    assert by_part["B"].tolist() == [0.0, 1.0, 1.0, 0.0]
    assert by_part["C"].tolist() == [0.0, 0.0, 1.0, 2.0]
    assert by_part["X"].tolist() == [1.0, 1.0, 1.0, 1.0]
    np.testing.assert_allclose(by_part[["A", "B", "C"]].sum(axis=1), 2.0)
    assert set(split["model"]) == {"Ensemble"}


def _phase_out_business() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Model OLD: two units, decommissioned on 2025-01-05 and 2025-01-09; model NEW: one open-ended
    unit; model GONE: its last unit left in 2024. OLD-only part P1, shared part P2 (used 3:1 by OLD and
    NEW), NEW-only part P3, GONE-only part P4."""
    base = pd.DataFrame(
        {
            "equipment_id": ["U1", "U2", "U3", "U4"],
            "equipment_type": ["BATTERY", "BATTERY", "BATTERY", "COOLING"],
            "model": ["OLD", "OLD", "NEW", "GONE"],
            "site_id": ["T1", "T2", "T1", "T1"],
            "install_date": [date(2015, 1, 1), date(2016, 1, 1), date(2024, 1, 1), date(2010, 1, 1)],
            "decommission_date": [date(2025, 1, 5), date(2025, 1, 9), None, date(2024, 6, 1)],
        }
    )
    used = pd.DataFrame(
        {
            "material_id": ["P1", "P2", "P2", "P3", "P4"],
            "equipment_type": ["BATTERY", "BATTERY", "BATTERY", "BATTERY", "COOLING"],
            "model": ["OLD", "OLD", "NEW", "NEW", "GONE"],
            "quantity": [10.0, 30.0, 10.0, 5.0, 7.0],
        }
    )
    return base, used


def test_phase_out_drives_parts_to_zero_and_flags_them() -> None:
    base, used = _phase_out_business()
    coverage = installed_base_coverage(base, used, "2025-01-01", "2025-01-10").set_index("material_id")
    assert coverage["status"].to_dict() == {
        "P1": PHASING_OUT,
        "P2": ACTIVE_BASE,
        "P3": ACTIVE_BASE,
        "P4": NO_INSTALLED_BASE,
    }
    assert coverage.loc["P1", "last_service_date"] == pd.Timestamp("2025-01-09")
    assert coverage.loc["P1", ["units_now", "units_at_horizon_end"]].tolist() == [2, 0]
    days = pd.date_range("2025-01-02", periods=10)
    forecast = pd.DataFrame(
        {
            "unique_id": np.repeat(["P1", "P2", "P3", "P4", "Z"], 10),
            "ds": np.tile(days, 5),
            "model": "m",
            "forecast": 4.0,
        }
    )
    scaled = apply_phase_out(forecast, base, used, "2025-01-01").pivot_table(
        index="ds", columns="unique_id", values="forecast"
    )
    assert scaled["P1"].tolist() == [4.0] * 3 + [2.0] * 4 + [0.0] * 3  # 2 units, then 1, then none
    assert scaled["P2"].tolist() == [4.0] * 3 + [2.5] * 4 + [1.0] * 3  # OLD's 3/4 share goes, NEW's 1/4 stays
    assert scaled["P3"].tolist() == [4.0] * 10
    assert scaled["P4"].tolist() == [0.0] * 10
    assert scaled["Z"].tolist() == [4.0] * 10  # not linked to equipment: left alone


def test_obsolescence_risk_values_the_stock_beyond_the_remaining_demand() -> None:
    base, used = _phase_out_business()
    coverage = installed_base_coverage(base, used, "2025-01-01", "2025-01-10")
    days = pd.date_range("2025-01-02", periods=10)
    forecast = pd.DataFrame({"unique_id": np.repeat(["P1", "P4"], 10), "ds": np.tile(days, 2), "forecast": 1.0})
    remaining = remaining_life_demand(apply_phase_out(forecast, base, used, "2025-01-01"), coverage)
    assert remaining.to_dict() == {"P1": pytest.approx(3 + 4 * 0.5), "P2": 0.0, "P3": 0.0, "P4": 0.0}
    stock = pd.DataFrame(
        {"material_id": ["P1", "P1", "P3", "P4"], "site_id": ["T1", "T2", "T1", "T1"], "on_hand": [6.0, 4, 9, 2]}
    )
    materials = pd.DataFrame({"material_id": ["P1", "P2", "P3", "P4"], "unit_cost": [100.0, 50, 20, 30]})
    risk = obsolescence_risk(stock, materials, coverage, remaining).set_index("material_id")
    assert sorted(risk.index) == ["P1", "P4"]  # parts with an active installed base are not at risk
    assert risk.loc["P1", "excess_units"] == pytest.approx(10 - 5)
    assert risk.loc["P1", "obsolescence_risk_brl"] == pytest.approx(500.0)
    assert risk.loc["P4", "obsolescence_risk_brl"] == pytest.approx(60.0)
    assert obsolescence_kpi(risk.reset_index()) == {
        "materials_at_risk": 2,
        "excess_units": pytest.approx(7.0),
        "obsolescence_risk_brl": pytest.approx(560.0),
    }


def test_sample_phase_outs_leave_flagged_parts() -> None:
    data = maintenance_data.sample()
    used = where_used(data.installed_base, data.work_orders, data.work_order_parts, END)
    coverage = installed_base_coverage(data.installed_base, used, END, pd.Timestamp(END) + pd.Timedelta(days=30))
    status = coverage.set_index("material_id")["status"]
    finished, ongoing = PHASE_OUTS[0], PHASE_OUTS[1]
    only = used.groupby("material_id")["model"].agg(set)
    assert {status[m] for m in only.index if only[m] == {finished.old_model}} == {NO_INSTALLED_BASE}
    assert {status[m] for m in only.index if only[m] == {ongoing.old_model}} == {PHASING_OUT}


def test_failure_clusters_per_site_and_type() -> None:
    data = maintenance_data.sample()
    clusters = failure_clusters(
        data.installed_base, data.work_orders, data.work_order_parts, maintenance_data.catalogue(), START, END
    )
    assert list(clusters.columns) == CLUSTER_COLUMNS
    assert not clusters.duplicated(["site_id", "equipment_type"]).any()
    with_failures = clusters[clusters["failures"] > 0]
    np.testing.assert_allclose(
        with_failures["mtbf_days"], with_failures["unit_years"] * 365.25 / with_failures["failures"]
    )
    assert clusters.loc[clusters["failures"] == 0, "mtbf_days"].isna().all()
    assert clusters["repair_parts_cost_brl"].sum() > 0 and clusters["cluster"].nunique() >= 2
    # cluster 0 is the lowest relative failure rate
    means = clusters.groupby("cluster")["relative_failure_rate"].mean()
    assert means.idxmin() == 0
    # towers with a higher true frailty fail more often than their fleet
    fleet = clusters.groupby("equipment_type")[["failures", "unit_years"]].sum()
    expected = clusters["unit_years"] * clusters["equipment_type"].map(fleet["failures"] / fleet["unit_years"])
    per_site = clusters.groupby("site_id")["failures"].sum() / expected.groupby(clusters["site_id"]).sum()
    frailty = data.site_frailty.loc[per_site.index]
    assert np.corrcoef(np.log(per_site.clip(lower=0.05)), frailty)[0, 1] > 0.5


def test_the_reorder_inputs_plan_a_superseded_part_as_its_successor() -> None:
    """What the reorder_points asset plans (inventory.daily.on_successors): the predecessor leaves the
    plan, its stock at the latest snapshot and its open orders count in the successor's position."""
    stock = pd.DataFrame(
        {
            "snapshot_date": ["2025-01-01", "2025-01-02", "2025-01-02", "2025-01-02"],
            "material_id": ["OLD", "OLD", "OLD", "NEW"],
            "site_id": ["WH", "WH", "TWR", "WH"],
            "on_hand": [50.0, 4.0, 1.0, 2.0],
        }
    )
    orders = pd.DataFrame({"material_id": ["OLD", "OTHER"], "quantity": [3.0, 1.0], "expected_date": "2025-01-09"})
    materials = pd.DataFrame({"material_id": ["OLD", "NEW", "OTHER"]})
    inputs = DailyInputs(date(2025, 1, 2), *[pd.DataFrame()] * 3, materials, stock, orders, pd.DataFrame(), 10.0)
    planned = on_successors(inputs, {"OLD": "NEW"})
    assert list(planned.materials["material_id"]) == ["NEW", "OTHER"]
    position = stock_position(planned.stock, planned.open_orders, pd.Index(["NEW", "OTHER"]))
    assert position.loc["NEW", "on_hand"] == 7.0 and position.loc["NEW", "on_order"] == 3.0
    assert planned.stock.set_index(["material_id", "site_id"]).loc[("NEW", "WH"), "predecessor_on_hand"] == 4.0
    assert on_successors(inputs, {}) is inputs
