"""Material groups: a fixed number of hash buckets of materials, so that a family that fits every
series on its own fans out into independent steps (processes here, pods in production).

A bucket is a stable hash of the material id, never one step per material: the groups stay the same
size as the catalogue grows, a material stays in its group from one day to the next, and a group's
result depends only on its own series.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence

import pandas as pd

from nova_assets.lib.forecasting.pipeline import FamilyRun


def material_group(unique_id: object, n_groups: int) -> int:
    """The group (0..n_groups-1) of a material: CRC-32 of its id, the same in every process and run."""
    return zlib.crc32(str(unique_id).encode()) % n_groups


def in_group(group: int, n_groups: int) -> Callable[[object], bool]:
    """Whether a material falls in `group` (its history's `keep`, defs.history.load_history)."""
    if not 0 <= group < n_groups:
        raise ValueError(f"group {group} is not one of the {n_groups} material groups")
    return lambda unique_id: material_group(unique_id, n_groups) == group


def group_max_series(max_series: int | None, n_groups: int) -> int | None:
    """Each group's share of a family's cap on expensive series (the top series of each group)."""
    return None if max_series is None else math.ceil(max_series / n_groups)


def merge_group_runs(runs: Sequence[FamilyRun]) -> FamilyRun:
    """One family's run from its groups' runs: rows concatenated, model forms merged, seconds summed."""
    if not runs:
        raise ValueError("no group runs to merge")
    families = {run.family for run in runs}
    if len(families) != 1:
        raise ValueError(f"group runs of different families {sorted(families)}")
    memo: dict[str, dict] = {}  # per kind of form (e.g. "ets"), the form of each series
    for run in runs:
        for kind, forms in run.memo.items():
            memo.setdefault(kind, {}).update(forms)
    return FamilyRun(
        family=runs[0].family,
        backtest=pd.concat([run.backtest for run in runs], ignore_index=True),
        forecast=pd.concat([run.forecast for run in runs], ignore_index=True),
        seconds=sum(run.seconds for run in runs),
        memo=memo,
        backtest_reused=all(run.backtest_reused for run in runs),
        windows_fitted=max(run.windows_fitted for run in runs),
    )
