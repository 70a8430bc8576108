"""The synthetic maintenance generator: deterministic, and causal in the ways its docstring states."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nova_assets.lib.maintenance.contracts import CORRECTIVE, DECOMMISSIONED, OPEN, PHASE_OUT, PREVENTIVE
from nova_assets.lib.maintenance.covariates import HEAT_REFERENCE_C
from nova_assets.lib.sample.erp_generator import CATEGORIES
from nova_assets.lib.sample.maintenance_generator import (
    EQUIPMENT_BY_CODE,
    EQUIPMENT_TYPES,
    PHASE_OUTS,
    PLAN_LEAD_DAYS,
    generate_maintenance,
)
from tests.unit import maintenance_data
from tests.unit.maintenance_data import END, START

DAYS_PER_YEAR = 365.25


def _typed(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.assign(**{c: pd.to_datetime(frame[c]) for c in columns})


def _failures() -> pd.DataFrame:
    data = maintenance_data.sample()
    orders = _typed(data.work_orders, "failure_date")
    base = _typed(data.installed_base, "install_date")
    return orders[orders["kind"] == CORRECTIVE].merge(base, on=["equipment_id", "site_id"], suffixes=("", "_unit"))


def test_same_seed_same_business_other_seed_other_business() -> None:
    args = (maintenance_data.catalogue(), maintenance_data.towers(5), maintenance_data.weather())
    first = generate_maintenance(*args, start=START, end=END, seed=11)
    again = generate_maintenance(*args, start=START, end=END, seed=11)
    other = generate_maintenance(*args, start=START, end=END, seed=12)
    for name in ("installed_base", "work_orders", "work_order_parts", "supersessions", "bill_of_materials"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name))
    assert not first.work_orders.equals(other.work_orders)


def test_part_lines_name_categories_and_items_of_the_sample_catalogue() -> None:
    items = {c.name: " ".join(c.items).lower() for c in CATEGORIES}
    for kind_type in EQUIPMENT_TYPES:
        for model in kind_type.models:
            for line in (*model.corrective, *model.preventive):
                assert line.category in items
                assert line.keyword is None or line.keyword.lower() in items[line.category]
        assert kind_type.shape > 1, "wear-out: the hazard rises with age"


def test_failure_rate_rises_with_age() -> None:
    """Failures per unit-year of the wear-out types, young units (< 4 years) vs old ones (>= 10)."""
    data = maintenance_data.sample()
    base = _typed(data.installed_base, "install_date", "decommission_date")
    start, end = pd.Timestamp(START), pd.Timestamp(END)
    entry = (base["install_date"].clip(lower=start) - base["install_date"]).dt.days / DAYS_PER_YEAR
    leave = base["decommission_date"].fillna(end + pd.Timedelta(days=1)).clip(upper=end + pd.Timedelta(days=1))
    exit_age = (leave - base["install_date"]).dt.days / DAYS_PER_YEAR
    failures = _failures()
    failures["age"] = (failures["failure_date"] - failures["install_date"]).dt.days / DAYS_PER_YEAR
    for code in ("BATTERY", "COOLING", "RECTIFIER"):
        mine = base["equipment_type"] == code
        rates = []
        for lo, hi in ((0, 4), (10, 40)):
            years = (np.minimum(exit_age[mine], hi) - np.maximum(entry[mine], lo)).clip(lower=0).sum()
            count = failures[(failures["equipment_type"] == code) & failures["age"].between(lo, hi, "left")]
            rates.append(len(count) / years)
        assert rates[1] > 1.5 * rates[0], (code, rates)


def test_heat_and_rain_raise_failures_of_the_sensitive_types() -> None:
    weather = maintenance_data.weather().assign(date=lambda w: pd.to_datetime(w["date"]))
    weather = weather[(weather["date"] >= pd.Timestamp(START)) & (weather["date"] <= pd.Timestamp(END))]
    per_day = _failures().groupby(["equipment_type", "failure_date"]).size()

    def ratio(code: str, hot_or_wet: pd.Series, mild_or_dry: pd.Series) -> float:
        counts = per_day.xs(code).reindex(weather["date"], fill_value=0).to_numpy()
        return counts[hot_or_wet.to_numpy()].mean() / counts[mild_or_dry.to_numpy()].mean()

    wet, dry = weather["precipitation_mm"] >= 15, weather["precipitation_mm"] < 1
    hot, mild = weather["temp_max"] >= HEAT_REFERENCE_C + 1.5, weather["temp_max"] <= HEAT_REFERENCE_C - 1.5
    assert EQUIPMENT_BY_CODE["SURGE"].rain > 0 and ratio("SURGE", wet, dry) > 1.5
    assert EQUIPMENT_BY_CODE["ANTENNA"].rain > 0 and ratio("ANTENNA", wet, dry) > 1.5
    assert EQUIPMENT_BY_CODE["COOLING"].heat > 0 and ratio("COOLING", hot, mild) > 1.3


def test_preventive_orders_follow_the_schedule_and_the_plan_is_known_weeks_ahead() -> None:
    data = maintenance_data.sample()
    orders = _typed(data.work_orders, "created_date", "planned_date", "completion_date", "failure_date")
    end = pd.Timestamp(END)
    assert (orders["created_date"] <= end).all()
    assert (orders["completion_date"].dropna() <= end).all()
    assert (orders["failure_date"].dropna() <= end).all()
    preventive = orders[orders["kind"] == PREVENTIVE]
    assert (preventive["planned_date"] - preventive["created_date"] == pd.Timedelta(days=PLAN_LEAD_DAYS)).all()
    ahead = preventive[preventive["planned_date"] > end]
    assert len(ahead) > 50 and (ahead["status"] == OPEN).all()
    assert ahead["planned_date"].max() <= end + pd.Timedelta(days=PLAN_LEAD_DAYS)
    types = preventive["equipment_id"].map(data.installed_base.set_index("equipment_id")["equipment_type"])
    gaps = preventive.sort_values("planned_date").groupby("equipment_id")["planned_date"].diff().dt.days
    interval = types.map({t.code: t.preventive_interval_days for t in EQUIPMENT_TYPES})
    gaps = gaps.dropna()
    assert len(gaps) > 1000 and (gaps == interval.loc[gaps.index]).all()


def test_orders_use_parts_of_their_models_bill_of_materials() -> None:
    data = maintenance_data.sample()
    successor = dict(zip(data.supersessions["supersedes"], data.supersessions["material_id"], strict=True))
    bom = data.bill_of_materials
    allowed = {
        (row.model, row.kind, material)
        for row in bom.itertuples()
        for material in (row.material_id, successor.get(row.material_id))
    }
    lines = data.work_order_parts.merge(data.work_orders, on="work_order_id").merge(
        data.installed_base[["equipment_id", "model"]], on="equipment_id"
    )
    used = set(zip(lines["model"], lines["kind"], lines["material_id"], strict=True))
    assert used <= allowed
    corrective = data.work_orders[data.work_orders["kind"] == CORRECTIVE]
    assert corrective["work_order_id"].isin(lines["work_order_id"]).mean() > 0.8


def test_phase_outs_replace_legacy_units_and_supersessions_switch_parts() -> None:
    data = maintenance_data.sample()
    base = _typed(data.installed_base, "install_date", "decommission_date")
    end = pd.Timestamp(END)
    for campaign in PHASE_OUTS:
        legacy = base[base["model"] == campaign.old_model]
        assert legacy["decommission_date"].notna().all()
        done = legacy[legacy["status"] == DECOMMISSIONED]
        assert (done["decommission_date"] <= end).all()
        successors = base.set_index("equipment_id").loc[done["equipment_id"] + "-R"]
        assert (successors["model"] == campaign.new_model).all()
        assert (successors["install_date"].to_numpy() == done["decommission_date"].to_numpy()).all()
        if campaign.last_day > 0:
            planned = legacy[legacy["status"] == PHASE_OUT]
            assert len(planned) > 0 and (planned["decommission_date"] > end).all()
        else:
            assert (legacy["status"] == DECOMMISSIONED).all()
    assert len(data.supersessions) == 2
    lines = data.work_order_parts.merge(_typed(data.work_orders, "completion_date"), on="work_order_id")
    for row in data.supersessions.itertuples():
        effective = pd.Timestamp(row.effective_date)
        old = lines[lines["material_id"] == row.supersedes]
        new = lines[lines["material_id"] == row.material_id]
        assert (old["completion_date"].dropna() < effective).all()
        assert len(new) > 0 and (new["completion_date"].dropna() >= effective).all()
