"""Segments: k chosen by silhouette (not fixed), ABC/XYZ classes by their definitions, tower features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.analytics.clustering import (
    abc_classes,
    choose_kmeans,
    cluster_materials,
    cluster_towers,
    material_features,
    tower_features,
    xyz_classes,
)


def _blobs(centres: list[tuple[float, float]], n: int = 30, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    points = np.vstack([rng.normal(c, 0.05, size=(n, 2)) for c in centres])
    return pd.DataFrame(points, columns=["a", "b"])


@pytest.mark.parametrize("centres", [[(0, 0), (5, 5)], [(0, 0), (5, 0), (0, 5)], [(0, 0), (9, 0), (0, 9), (9, 9)]])
def test_k_is_chosen_by_silhouette(centres: list[tuple[float, float]]) -> None:
    result = choose_kmeans(_blobs(centres))
    assert result.k == len(centres)
    assert result.score == max(result.scores.values()) and result.score > 0.8
    assert set(result.scores) == set(range(2, 9))
    # ids ordered by the first feature's cluster mean
    means = _blobs(centres).groupby(result.labels)["a"].mean()
    assert means.is_monotonic_increasing


def test_too_few_distinct_points_make_one_group() -> None:
    result = choose_kmeans(pd.DataFrame({"a": [1.0, 1.0, 1.0], "b": [2.0, 2.0, 2.0]}))
    assert (result.k, result.score) == (1, None) and set(result.labels) == {0}


def test_abc_classes_follow_cumulative_value_share() -> None:
    value = pd.Series({"m1": 700.0, "m2": 150.0, "m3": 90.0, "m4": 40.0, "m5": 20.0})
    # shares before each: 0, 0.70, 0.85, 0.94, 0.98
    assert abc_classes(value).to_dict() == {"m1": "A", "m2": "A", "m3": "B", "m4": "B", "m5": "C"}


def test_xyz_classes_by_weekly_cv() -> None:
    cv = pd.Series([0.2, 0.49, 0.5, 0.99, 1.0, np.nan])
    assert list(xyz_classes(cv)) == ["X", "X", "Y", "Y", "Z", "Z"]


def test_material_features_and_segments() -> None:
    days = pd.date_range("2024-01-01", periods=364, freq="D")
    steady = pd.DataFrame({"material_id": "STEADY", "date": days, "demand": 5.0})
    rare = pd.DataFrame({"material_id": "RARE", "date": days, "demand": np.where(np.arange(364) % 28 == 0, 8.0, 0)})
    idle = pd.DataFrame({"material_id": "IDLE", "date": days, "demand": 0.0})
    demand = pd.concat([steady, rare, idle])
    cost = pd.Series({"STEADY": 10.0, "RARE": 500.0, "IDLE": 1.0})
    features = material_features(demand, cost, days[-1]).set_index("material_id")
    assert features.loc["STEADY", "mean_daily_demand"] == pytest.approx(5.0)
    assert features.loc["STEADY", "annual_value_brl"] == pytest.approx(5 * 365 * 10)
    assert features.loc["STEADY", "xyz_class"] == "X" and features.loc["RARE", "xyz_class"] == "Z"
    assert features.loc["RARE", "adi_days"] == pytest.approx(28.0)
    assert features.loc["IDLE", "abc_class"] == "C" and np.isnan(features.loc["IDLE", "adi_days"])
    segments, profiles = cluster_materials(features.reset_index())
    assert len(segments) == 3 and profiles["size"].sum() == 3
    assert profiles["label"].is_unique


def test_tower_features_measure_failures_value_and_rain() -> None:
    days = pd.date_range("2024-01-01", periods=365, freq="D")
    rain = pd.DataFrame({"date": days, "precipitation_mm": np.where(np.arange(365) % 10 == 0, 60.0, 0.0)})
    rows = []
    for i, day in enumerate(days):
        rows.append((day, "M1", "T-RAIN", "issue", 2.0))
        if i % 10 == 0:  # an extra failure on every rainy day
            rows.append((day, "M2", "T-RAIN", "issue", 1.0))
        if i % 2 == 0:
            rows.append((day, "M1", "T-DRY", "issue", 1.0))
        rows.append((day, "M1", "WH", "issue", 50.0))  # warehouses are not towers
    movements = pd.DataFrame(rows, columns=["movement_date", "material_id", "site_id", "movement_type", "quantity"])
    sites = pd.DataFrame({"site_id": ["T-RAIN", "T-DRY", "WH"], "site_type": ["tower", "tower", "warehouse"]})
    features = tower_features(movements, sites, pd.Series({"M1": 10.0, "M2": 100.0}), rain, days[-1])
    f = features.set_index("site_id")
    assert list(f.index) == ["T-RAIN", "T-DRY"]
    assert f.loc["T-RAIN", "rain_lift"] == pytest.approx(2.0)
    assert f.loc["T-DRY", "active_day_share"] == pytest.approx(183 / 365)
    assert f.loc["T-RAIN", "daily_value_brl"] == pytest.approx(20 + 100 * 37 / 365)
    assigned, profiles = cluster_towers(features)
    assert len(assigned) == 2 and profiles["k"].iloc[0] == 1  # two towers: nothing to choose
