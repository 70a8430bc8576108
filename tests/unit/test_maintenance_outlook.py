"""The cycle's maintenance outputs: the failure model with its calibration backtest, the forecast per
tower and type, the obsolescence risk; and an ERP without maintenance exports."""

from __future__ import annotations

from datetime import date

import pandas as pd

from nova_assets.lib.maintenance.clusters import CLUSTER_COLUMNS
from nova_assets.lib.maintenance.contracts import MAINTENANCE_TABLES
from nova_assets.lib.maintenance.lifecycle import NO_INSTALLED_BASE, PHASING_OUT
from nova_assets.lib.maintenance.outlook import (
    BACKTEST_ORIGINS,
    FAILURE_FORECAST_COLUMNS,
    RISK_COLUMNS,
    backtest_cutoffs,
    equipment_clusters,
    failure_outlook,
    obsolescence,
    phase_out_backtests,
)
from tests.unit import maintenance_data
from tests.unit.maintenance_data import END

AS_OF = pd.Timestamp(END)


def test_backtest_origins_are_month_ends_whose_horizon_is_observed() -> None:
    cutoffs = backtest_cutoffs(pd.Timestamp("2022-01-01"), pd.Timestamp("2025-11-10"))
    assert [str(c.date()) for c in cutoffs] == ["2025-04-30", "2025-05-31", "2025-06-30", "2025-07-31"]
    assert len(cutoffs) == BACKTEST_ORIGINS
    assert backtest_cutoffs(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-11-10")) == []  # under a year


def test_failure_outlook_fits_forecasts_and_is_calibrated_on_the_sample() -> None:
    data = maintenance_data.sample(12, 7)
    outlook = failure_outlook(data.installed_base, data.work_orders, maintenance_data.weather(), AS_OF)
    assert outlook.model is not None and outlook.reason is None
    assert list(outlook.forecast.columns) == FAILURE_FORECAST_COLUMNS
    assert outlook.forecast["period"].min() == pd.Timestamp("2025-11-01")
    assert outlook.forecast["period"].max() == pd.Timestamp("2026-02-01")
    assert (outlook.forecast["p5"] <= outlook.forecast["p95"]).all()
    pooled = outlook.calibration.set_index("equipment_type").loc["all"]
    assert pooled["cells"] == BACKTEST_ORIGINS * 3 * len(outlook.model.types)
    passed, verdict = outlook.calibrated()
    assert passed, verdict
    # a model that predicts half the failures is not calibrated
    halved = outlook.calibration.assign(expected=outlook.calibration["expected"] * 2)
    halved["observed_over_expected"] = halved["observed"] / halved["expected"]
    assert not type(outlook)(outlook.model, outlook.forecast, halved, outlook.summary).calibrated()[0]


def test_obsolescence_values_the_stock_of_parts_losing_their_installed_base() -> None:
    data = maintenance_data.sample(12, 7)
    outlook = failure_outlook(data.installed_base, data.work_orders, maintenance_data.weather(), AS_OF, backtest=False)
    catalogue = maintenance_data.catalogue()
    stock = pd.DataFrame(
        {
            "snapshot_date": [AS_OF - pd.Timedelta(days=7), AS_OF],
            "material_id": catalogue["material_id"].iloc[0],
            "site_id": "WH",
            "on_hand": 99.0,
        }
    )
    stock = pd.concat(
        [
            stock,
            pd.DataFrame(
                {"snapshot_date": AS_OF, "material_id": catalogue["material_id"], "site_id": "WH", "on_hand": 5.0}
            ),
        ]
    )
    risk = obsolescence(
        outlook.model, data.installed_base, data.work_orders, data.work_order_parts, catalogue, stock, AS_OF
    )
    assert list(risk.columns) == RISK_COLUMNS and len(risk)
    assert set(risk["status"]) <= {PHASING_OUT, NO_INSTALLED_BASE}
    # the air conditioners were all replaced before the end: their parts have no installed base left
    ac_parts = set(risk.loc[risk["status"] == NO_INSTALLED_BASE, "material_id"])
    assert ac_parts and all(m.startswith("MAT-VEN") for m in ac_parts)
    assert (risk["excess_units"] <= risk["on_hand"]).all() and (
        risk["on_hand"] == 5.0
    ).all()  # the latest snapshot only


def test_without_maintenance_exports_the_outputs_are_empty_and_say_why() -> None:
    empty = {t: pd.DataFrame(columns=list(spec.columns)) for t, spec in MAINTENANCE_TABLES.items()}
    outlook = failure_outlook(empty["erp_installed_base"], empty["erp_work_orders"], maintenance_data.weather(), AS_OF)
    assert outlook.model is None and "no maintenance history" in (outlook.reason or "")
    assert outlook.forecast.empty and outlook.calibrated()[0]
    assert obsolescence(outlook.model, *empty.values(), maintenance_data.catalogue(), pd.DataFrame(), AS_OF).empty
    clusters = equipment_clusters(*empty.values(), maintenance_data.catalogue(), AS_OF)
    assert clusters.empty and list(clusters.columns) == CLUSTER_COLUMNS


def test_each_backtest_window_is_phased_out_as_it_stood_at_its_cutoff() -> None:
    """Two OLD units using part P1 leave on 2025-01-05 and 2025-01-09. A window cut on 2025-01-01 still
    sees them (halved from the 5th), one cut on the 10th sees none (zero); the causal member and a part
    no order used are left alone; an order completed after a cutoff does not link its part there."""
    base = pd.DataFrame(
        {
            "equipment_id": ["U1", "U2"],
            "equipment_type": "BATTERY",
            "model": "OLD",
            "site_id": ["T1", "T2"],
            "install_date": [date(2015, 1, 1), date(2016, 1, 1)],
            "decommission_date": [date(2025, 1, 5), date(2025, 1, 9)],
            "status": "active",
        }
    )
    orders = pd.DataFrame(
        {
            "work_order_id": ["W1", "W2"],
            "kind": "preventive",
            "equipment_id": ["U1", "U2"],
            "site_id": ["T1", "T2"],
            "created_date": [date(2024, 5, 1), date(2024, 12, 1)],
            "planned_date": [date(2024, 6, 1), date(2025, 1, 2)],
            "failure_date": None,
            "completion_date": [date(2024, 6, 1), date(2025, 1, 2)],
            "status": "completed",
        }
    )
    parts = pd.DataFrame({"work_order_id": ["W1", "W2"], "material_id": ["P1", "P2"], "quantity": [2.0, 1.0]})
    windows = []
    for cutoff in ("2025-01-01", "2025-01-10"):
        days = pd.date_range(pd.Timestamp(cutoff) + pd.Timedelta(days=1), periods=7)
        for uid, model in (("P1", "CrostonSBA"), ("P1", "InstalledBase"), ("P2", "CrostonSBA"), ("Z", "CrostonSBA")):
            windows.append(pd.DataFrame({"unique_id": uid, "ds": days, "cutoff": pd.Timestamp(cutoff), "model": model}))
    backtest = pd.concat(windows, ignore_index=True).assign(y=1.0, forecast=4.0, demand_class="lumpy")
    scaled = phase_out_backtests(backtest, base, orders, parts)
    assert list(scaled.columns) == list(backtest.columns) and len(scaled) == len(backtest)
    croston = scaled[scaled["model"] == "CrostonSBA"].sort_values(["cutoff", "ds"])
    p1 = croston[croston["unique_id"] == "P1"].groupby("cutoff")["forecast"].apply(list)
    assert p1.iloc[0] == [4.0] * 3 + [2.0] * 4  # 2025-01-02..04 both units, then one
    assert p1.iloc[1] == [0.0] * 7  # no unit left at the second cutoff
    p2 = croston[croston["unique_id"] == "P2"].groupby("cutoff")["forecast"].apply(list)
    assert p2.iloc[0] == [4.0] * 7  # W2 was done after the first cutoff: P2 not yet linked to OLD there
    assert p2.iloc[1] == [0.0] * 7
    assert (croston.loc[croston["unique_id"] == "Z", "forecast"] == 4.0).all()
    assert (scaled.loc[scaled["model"] == "InstalledBase", "forecast"] == 4.0).all()
    assert phase_out_backtests(backtest.iloc[0:0], base, orders, parts).empty
