"""Any long demand table (lib.long_table) as a regular item x period matrix for the policy replay."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nova_assets.lib.long_table import PERIODS, InputError, long_demand


@dataclass(frozen=True)
class DemandMatrix:
    """Demand per item (rows) and period (columns); NaN before an item's first observation."""

    items: pd.Index
    periods: pd.PeriodIndex
    values: np.ndarray


def to_matrix(
    table: pd.DataFrame,
    freq: str,
    id_col: str | None = None,
    date_col: str | None = None,
    value_col: str | None = None,
    keep_leading_zeros: bool = False,
) -> DemandMatrix:
    """Sum demand into `freq` periods (D, W or M). An item starts at its first positive demand
    (leading zeros are a part not yet in use, as in the M5/fev practice) unless
    `keep_leading_zeros`; later missing periods are zero demand (long tables often omit them),
    periods before the start are NaN."""
    if freq not in PERIODS:
        raise InputError(f"freq must be one of {', '.join(PERIODS)}")
    frame = long_demand(table, id_col, date_col, value_col)
    frame["ds"] = frame["ds"].dt.to_period(PERIODS[freq])
    wide = frame.groupby(["unique_id", "ds"])["y"].sum().unstack("ds")
    periods = pd.period_range(wide.columns.min(), wide.columns.max(), freq=PERIODS[freq])
    wide = wide.reindex(columns=periods)
    values = wide.to_numpy(float)
    seen = ~np.isnan(values) if keep_leading_zeros else np.nan_to_num(values) > 0
    first = np.where(seen.any(axis=1), np.argmax(seen, axis=1), values.shape[1])
    after_first = np.arange(values.shape[1])[None, :] >= first[:, None]
    values = np.where(after_first, np.nan_to_num(values), np.nan)
    return DemandMatrix(wide.index, periods, values)
