"""Read any long demand table (item, date, quantity) into a regular item x period matrix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ID_COLUMNS = ("unique_id", "item_id", "material_id", "item", "sku", "id")
DATE_COLUMNS = ("ds", "date", "month", "week", "period", "movement_date")
VALUE_COLUMNS = ("y", "demand", "quantity", "qty", "value", "sales")
FREQS = {"D": "D", "W": "W-SUN", "M": "M"}
PERIODS_PER_YEAR = {"D": 365.0, "W": 52.0, "M": 12.0}


@dataclass(frozen=True)
class DemandMatrix:
    """Demand per item (rows) and period (columns); NaN before an item's first observation."""

    items: pd.Index
    periods: pd.PeriodIndex
    values: np.ndarray


def _pick(columns: pd.Index, wanted: str | None, candidates: tuple[str, ...], what: str) -> str:
    if wanted:
        if wanted not in columns:
            raise ValueError(f"column {wanted!r} not in the table (columns: {', '.join(columns)})")
        return wanted
    lower = {c.lower(): c for c in columns}
    for name in candidates:
        if name in lower:
            return lower[name]
    raise ValueError(f"no {what} column among {', '.join(columns)}; name it with --{what}-col")


def read_long_table(path: Path) -> pd.DataFrame:
    """CSV (',' or ';') or Parquet."""
    if path.suffix.lower() in {".parquet", ".pq"}:
        return pd.read_parquet(path)
    return pd.read_csv(path, sep=None, engine="python", dtype=str)


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
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {', '.join(FREQS)}")
    uid = _pick(table.columns, id_col, ID_COLUMNS, "id")
    when = _pick(table.columns, date_col, DATE_COLUMNS, "date")
    value = _pick(table.columns, value_col, VALUE_COLUMNS, "value")
    frame = pd.DataFrame(
        {
            "uid": table[uid].astype(str),
            "period": pd.to_datetime(table[when]).dt.to_period(FREQS[freq]),
            "y": pd.to_numeric(table[value], errors="coerce"),
        }
    )
    if frame["y"].isna().any() or (frame["y"] < 0).any():
        bad = int(frame["y"].isna().sum() + (frame["y"] < 0).sum())
        raise ValueError(f"{bad} rows have a missing, non-numeric or negative demand")
    wide = frame.groupby(["uid", "period"])["y"].sum().unstack("period")
    periods = pd.period_range(wide.columns.min(), wide.columns.max(), freq=FREQS[freq])
    wide = wide.reindex(columns=periods)
    values = wide.to_numpy(float)
    seen = ~np.isnan(values) if keep_leading_zeros else np.nan_to_num(values) > 0
    first = np.where(seen.any(axis=1), np.argmax(seen, axis=1), values.shape[1])
    after_first = np.arange(values.shape[1])[None, :] >= first[:, None]
    values = np.where(after_first, np.nan_to_num(values), np.nan)
    return DemandMatrix(wide.index, periods, values)
