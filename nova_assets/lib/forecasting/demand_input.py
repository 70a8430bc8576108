"""A user's demand table (CSV or Parquet) as the regular (unique_id, ds, y) history the forecast runs on.

Input: a long table with item_id, one of date|period|month, and demand. Rows of the same item and
period are summed; missing periods between an item's first period and the table's last one count
as no demand. Anything unusable raises InputError with a message naming the file and the problem.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nova_assets.lib.forecasting.panel import FREQUENCIES, regularise

DATE_COLUMNS = ("date", "period", "month")


class InputError(ValueError):
    """A problem with the user's input, reported without a traceback."""


def read_table(path: Path) -> pd.DataFrame:
    """The raw table with lower-case column names; InputError if it cannot be read."""
    if not path.exists():
        raise InputError(f"input file {path} does not exist")
    try:
        if path.suffix.lower() == ".parquet":
            table = pd.read_parquet(path)
        else:
            table = pd.read_csv(path, dtype={"item_id": str})
    except Exception as exc:  # any reader failure is the input's problem, reported as such
        raise InputError(f"cannot read {path} as {'Parquet' if path.suffix == '.parquet' else 'CSV'}: {exc}") from exc
    table.columns = [str(c).strip().lower() for c in table.columns]
    return table


def _date_column(table: pd.DataFrame, path: Path) -> str:
    date_column = next((c for c in DATE_COLUMNS if c in table.columns), None)
    missing = [c for c in ("item_id", "demand") if c not in table.columns]
    if date_column is None:
        missing.append("date|period|month")
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(table.columns)}")
    if table.empty:
        raise InputError(f"{path} has no rows")
    return date_column


def _dates(table: pd.DataFrame, column: str, path: Path) -> pd.Series:
    dates = pd.to_datetime(table[column].astype(str), errors="coerce")
    if dates.isna().any():
        examples = ", ".join(repr(v) for v in table.loc[dates.isna(), column].astype(str).unique()[:3])
        raise InputError(f"{path}: column {column} has values that are not dates (e.g. {examples})")
    return dates


def infer_freq(path: Path) -> str:
    """D, W or M from the typical spacing of the table's distinct dates."""
    table = read_table(path)
    dates = _dates(table, _date_column(table, path), path)
    days = np.diff(np.sort(dates.unique())) / np.timedelta64(1, "D")
    if len(days) == 0:
        raise InputError(f"{path}: a single date; the period cannot be inferred")
    spacing = float(np.median(days))
    return "D" if spacing < 4 else "W" if spacing < 15 else "M"


def read_demand(path: Path, freq: str) -> pd.DataFrame:
    """The input table as a regular (unique_id, ds, y) history; InputError on anything unusable."""
    if freq not in FREQUENCIES:
        raise InputError(f"unknown frequency {freq!r}; expected one of {', '.join(FREQUENCIES)}")
    table = read_table(path)
    date_column = _date_column(table, path)
    demand = pd.to_numeric(table["demand"], errors="coerce")
    bad = table.loc[demand.isna(), "demand"]
    if len(bad):
        examples = ", ".join(repr(v) for v in bad.astype(str).unique()[:3])
        raise InputError(f"{path}: column demand must be numeric; {len(bad)} row(s) are not (e.g. {examples})")
    if (demand < 0).any():
        raise InputError(f"{path}: column demand has {(demand < 0).sum()} negative value(s); demand must be >= 0")
    dates = _dates(table, date_column, path)
    history = pd.DataFrame(
        {
            "unique_id": table["item_id"].astype(str),
            "ds": dates.dt.to_period(freq).dt.start_time,
            "y": demand.astype(float),
        }
    )
    points = history.groupby("unique_id")["ds"].nunique()
    single = points[points < 2]
    if len(single):
        names = ", ".join(single.index[:5]) + (" ..." if len(single) > 5 else "")
        raise InputError(
            f"{path}: {len(single)} item(s) have a single period of data ({names}); each item needs at least two"
        )
    return regularise(history.groupby(["unique_id", "ds"], as_index=False)["y"].sum(), freq)
