"""A user's demand table (CSV or Parquet) as the regular (unique_id, ds, y) history the forecast runs on.

Input: a long table read and checked by lib.long_table (an item, a date and a demand column). Rows
of the same item and period are summed; missing periods between an item's first period and the
table's last one count as no demand, so an export that lists only the periods with demand works, and
an item with a single row (a first sale) is a short series that gets a forecast like any other.
Anything unusable raises InputError with a message naming the file and the problem.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.panel import regularise
from nova_assets.lib.long_table import PERIODS, InputError, long_demand, read_long_table


def _long(path: Path) -> pd.DataFrame:
    try:
        return long_demand(read_long_table(path))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc


def _infer_freq(dates: pd.Series, path: Path) -> str:
    """D, W or M from the typical spacing of the table's distinct dates."""
    days = np.diff(np.sort(dates.unique())) / np.timedelta64(1, "D")
    if len(days) == 0:
        raise InputError(f"{path}: a single date; the period cannot be inferred")
    spacing = float(np.median(days))
    return "D" if spacing < 4 else "W" if spacing < 15 else "M"


def read_demand(path: Path, freq: str | None = None) -> tuple[pd.DataFrame, str]:
    """The input table as a regular (unique_id, ds, y) history and its frequency (inferred from the
    spacing of its dates when `freq` is None), the file read once; InputError on anything unusable."""
    if freq is not None and freq not in PERIODS:
        raise InputError(f"unknown frequency {freq!r}; expected one of {', '.join(PERIODS)}")
    history = _long(path)
    freq = freq or _infer_freq(history["ds"], path)
    history["ds"] = history["ds"].dt.to_period(PERIODS[freq]).dt.start_time
    return regularise(history.groupby(["unique_id", "ds"], as_index=False)["y"].sum(), freq), freq
