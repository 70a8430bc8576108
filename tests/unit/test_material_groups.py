"""Material groups split a family's series into stable, balanced, disjoint buckets, and a per-series
family run group by group gives the same forecast as one run on every series."""

import numpy as np
import pandas as pd
import pytest

from nova_assets.lib.forecasting.material_groups import (
    group_max_series,
    in_group,
    material_group,
    merge_group_runs,
)
from nova_assets.lib.forecasting.models import BACKTEST_COLUMNS, FAMILIES
from nova_assets.lib.forecasting.pipeline import FamilyRun, run_family
from tests.unit.forecast_data import history, weekly_panel


def test_a_material_keeps_its_group_and_groups_are_balanced() -> None:
    ids = [f"MAT-{i:05d}" for i in range(10_000)]
    groups = np.array([material_group(uid, 4) for uid in ids])
    assert material_group("MAT-00042", 4) == material_group("MAT-00042", 4)
    assert set(groups) == {0, 1, 2, 3}
    sizes = np.bincount(groups)
    assert sizes.min() > 0.9 * 2_500 and sizes.max() < 1.1 * 2_500, sizes


def _group(frame: pd.DataFrame, group: int, n_groups: int) -> pd.DataFrame:
    return frame[frame["unique_id"].map(in_group(group, n_groups))].reset_index(drop=True)


def test_groups_cover_every_series_once() -> None:
    frame = history(weekly_panel(12, 10))
    parts = [_group(frame, g, 3) for g in range(3)]
    ids = [set(p["unique_id"]) for p in parts]
    assert set.union(*ids) == set(frame["unique_id"])
    assert sum(len(s) for s in ids) == frame["unique_id"].nunique()
    assert sum(len(p) for p in parts) == len(frame)
    with pytest.raises(ValueError, match="group 3 is not one of the 3 material groups"):
        in_group(3, 3)


def test_each_group_takes_its_share_of_the_expensive_series() -> None:
    assert group_max_series(500, 4) == 125
    assert group_max_series(500, 3) == 167
    assert group_max_series(None, 4) is None


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, ignore_index=True)


def test_grouped_run_equals_the_run_on_every_series() -> None:
    frame = history(weekly_panel(10, 16))
    family = FAMILIES["intermittent"]
    whole = run_family(frame, family, horizon=7, season=7, n_windows=2, n_jobs=1)
    merged = merge_group_runs([run_family(_group(frame, g, 4), family, 7, 7, 2, 1) for g in range(4)])
    keys = ["unique_id", "model", "ds"]
    pd.testing.assert_frame_equal(_sorted(merged.forecast, keys), _sorted(whole.forecast, keys))
    pd.testing.assert_frame_equal(
        _sorted(merged.backtest, [*keys, "cutoff"]), _sorted(whole.backtest, [*keys, "cutoff"])
    )


def test_an_empty_group_gives_typed_frames_without_rows() -> None:
    empty = history(weekly_panel(2, 4)).iloc[:0]
    run = run_family(empty, FAMILIES["statistical"], horizon=7, season=7)
    assert run.forecast.empty and run.backtest.empty
    assert list(run.backtest.columns) == [*BACKTEST_COLUMNS, "family"]
    assert run.forecast["ds"].dtype == "datetime64[ns]"


def test_merging_keeps_every_group_model_forms() -> None:
    frame = history(weekly_panel(2, 4))
    rows = frame.iloc[:0]
    runs = [
        FamilyRun("statistical", rows, rows, 2.0, {"ets": {"A": "AAN"}, "arima": {"A": [1, 0, 0]}}),
        FamilyRun("statistical", rows, rows, 3.0, {"ets": {"B": "ANN"}}),
    ]
    merged = merge_group_runs(runs)
    assert merged.memo == {"ets": {"A": "AAN", "B": "ANN"}, "arima": {"A": [1, 0, 0]}}
    assert merged.seconds == 5.0
    with pytest.raises(ValueError, match="different families"):
        merge_group_runs([runs[0], FamilyRun("prophet", rows, rows, 1.0, {})])


def test_the_number_of_groups_shapes_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    from nova_assets.defs.forecast import families

    monkeypatch.setenv("NOVA_MATERIAL_GROUPS", "2")
    nodes = {node.name for asset in families.defs().assets for node in getattr(asset.node_def, "nodes", [])}
    assert nodes == {
        f"{name}_{step}"
        for name in ("intermittent", "statistical", "prophet")
        for step in ("group_0", "group_1", "collect")
    }
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("NOVA_MATERIAL_GROUPS", bad)
        with pytest.raises(ValueError, match="NOVA_MATERIAL_GROUPS must be a whole number"):
            families.material_groups()
