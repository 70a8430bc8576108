"""Read any long demand table (item, date, quantity) into a regular item x period matrix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.demand_input import InputError

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
            raise InputError(f"column {wanted!r} not in the table (columns: {', '.join(columns)})")
        return wanted
    lower = {c.lower(): c for c in columns}
    for name in candidates:
        if name in lower:
            return lower[name]
    raise InputError(f"no {what} column among {', '.join(columns)}; name it with --{what}-col")


def read_long_table(path: Path) -> pd.DataFrame:
    """CSV (',' or ';') or Parquet; InputError when it cannot be read (the caller names the file)."""
    if not path.exists():
        raise InputError("no such file")
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            return pd.read_parquet(path)
        return pd.read_csv(path, sep=None, engine="python", dtype=str)
    except Exception as exc:  # any reader failure is the file's problem, reported as such
        raise InputError(f"cannot be read: {exc}") from exc


def _bad_rows(bad: np.ndarray, raw: pd.Series, column: str, problem: str) -> InputError:
    """The rows of `bad` named by their number among the data rows (1 = the first after a header)."""
    rows = np.flatnonzero(bad)
    shown = ", ".join(f"row {i + 1}: {raw.iloc[i]!r}" for i in rows[:3])
    more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
    return InputError(f"{len(rows)} row(s) with {problem} in column {column!r} ({shown}{more})")


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
        raise InputError(f"freq must be one of {', '.join(FREQS)}")
    uid = _pick(table.columns, id_col, ID_COLUMNS, "id")
    when = _pick(table.columns, date_col, DATE_COLUMNS, "date")
    value = _pick(table.columns, value_col, VALUE_COLUMNS, "value")
    if table.empty:
        raise InputError("the table has no rows")
    dates = pd.to_datetime(table[when], errors="coerce")
    if dates.isna().any():
        raise _bad_rows(dates.isna().to_numpy(), table[when], when, "a missing or unreadable date")
    y = pd.to_numeric(table[value], errors="coerce")
    if y.isna().any() or (y < 0).any():
        raise _bad_rows(
            (y.isna() | (y < 0)).to_numpy(), table[value], value, "a missing, non-numeric or negative demand"
        )
    frame = pd.DataFrame({"uid": table[uid].astype(str), "period": dates.dt.to_period(FREQS[freq]), "y": y})
    wide = frame.groupby(["uid", "period"])["y"].sum().unstack("period")
    periods = pd.period_range(wide.columns.min(), wide.columns.max(), freq=FREQS[freq])
    wide = wide.reindex(columns=periods)
    values = wide.to_numpy(float)
    seen = ~np.isnan(values) if keep_leading_zeros else np.nan_to_num(values) > 0
    first = np.where(seen.any(axis=1), np.argmax(seen, axis=1), values.shape[1])
    after_first = np.arange(values.shape[1])[None, :] >= first[:, None]
    values = np.where(after_first, np.nan_to_num(values), np.nan)
    return DemandMatrix(wide.index, periods, values)
