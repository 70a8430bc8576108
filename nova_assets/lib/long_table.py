"""A user's long demand table (item, date, quantity; CSV or Parquet), read and checked in one place.

`nova forecast`, `nova backtest`, `nova evaluate` and `nova policy-backtest` read their input here,
and the bench scripts with them. Columns are found by name (ID_COLUMNS, DATE_COLUMNS,
VALUE_COLUMNS, in any case) or named by the caller; a CSV's delimiter, ',' or ';', is taken from its
header line. Anything unusable raises InputError naming the rows and values at fault, numbered as
data rows (1 = the first row after the header); the caller names the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ID_COLUMNS = ("unique_id", "item_id", "material_id", "item", "sku", "id")
DATE_COLUMNS = ("ds", "date", "month", "week", "period", "movement_date")
VALUE_COLUMNS = ("y", "demand", "quantity", "qty", "value", "sales")
SHOWN_ROWS = 3  # rows quoted in a message; the count says how many more
# The pandas periods a table's dates are summed into, by frequency: days, weeks from Monday to Sunday
# and calendar months. The forecast (forecasting.demand_input) and the policy replay
# (inventory.demand_table) both sum into these, so a week holds the same days in each.
PERIODS = {"D": "D", "W": "W-SUN", "M": "M"}
PERIODS_HELP = "period of the table: D(ay), W(eek, Monday to Sunday), M(onth)"


class InputError(ValueError):
    """A problem with the user's input, reported without a traceback."""


class MissingColumn(InputError):
    """No column of the kind (`what`: id, date or value) was found; a command that lets the user
    name it says how."""

    def __init__(self, message: str, what: str) -> None:
        super().__init__(message)
        self.what = what


def read_long_table(path: Path) -> pd.DataFrame:
    """The table as read (a CSV's cells as text, names stripped); InputError if it cannot be read."""
    if not path.exists():
        raise InputError("does not exist")
    parquet = path.suffix.lower() in {".parquet", ".pq"}
    try:
        if parquet:
            table = pd.read_parquet(path)
        else:
            with path.open(encoding="utf-8", errors="replace") as file:
                header = file.readline()
            sep = ";" if header.count(";") > header.count(",") else ","
            table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except Exception as exc:  # any reader failure is the file's problem, reported as such
        raise InputError(f"cannot be read as {'Parquet' if parquet else 'CSV'}: {exc}") from exc
    table.columns = [str(c).strip() for c in table.columns]
    return table


def long_demand(
    table: pd.DataFrame, id_col: str | None = None, date_col: str | None = None, value_col: str | None = None
) -> pd.DataFrame:
    """unique_id (text), ds (timestamp) and y (float >= 0) of every row; InputError on a missing
    column, an empty table, or rows whose date or demand is missing, unreadable or negative."""
    uid = _column(table.columns, id_col, ID_COLUMNS, "id")
    when = _column(table.columns, date_col, DATE_COLUMNS, "date")
    value = _column(table.columns, value_col, VALUE_COLUMNS, "value")
    if table.empty:
        raise InputError("the table has no rows")
    dates = table[when]
    if not pd.api.types.is_datetime64_any_dtype(dates):  # text, dates or periods of a file
        dates = pd.to_datetime(dates.astype(str), errors="coerce")
    if dates.isna().any():
        raise _bad_rows(dates.isna().to_numpy(), table[when], when, "a missing or unreadable date")
    y = pd.to_numeric(table[value], errors="coerce")
    if y.isna().any() or (y < 0).any():
        raise _bad_rows(
            (y.isna() | (y < 0)).to_numpy(), table[value], value, "a missing, non-numeric or negative demand"
        )
    return pd.DataFrame(
        {"unique_id": table[uid].astype(str).to_numpy(), "ds": dates.to_numpy(), "y": y.to_numpy(float)}
    )


def _column(columns: pd.Index, wanted: str | None, candidates: tuple[str, ...], what: str) -> str:
    if wanted:
        if wanted not in columns:
            raise InputError(f"column {wanted!r} not in the table (columns: {', '.join(columns)})")
        return wanted
    lower = {c.lower(): c for c in columns}
    found = next((lower[name] for name in candidates if name in lower), None)
    if found is None:
        raise MissingColumn(f"no {what} column among {', '.join(columns)} (one of {', '.join(candidates)})", what)
    return found


def _bad_rows(bad: np.ndarray, raw: pd.Series, column: str, problem: str) -> InputError:
    rows = np.flatnonzero(bad)
    shown = ", ".join(
        f"row {i + 1}: {raw.iloc[i]!r}" if pd.notna(raw.iloc[i]) else f"row {i + 1}: empty" for i in rows[:SHOWN_ROWS]
    )
    more = f" and {len(rows) - SHOWN_ROWS} more" if len(rows) > SHOWN_ROWS else ""
    return InputError(f"{len(rows)} row(s) with {problem} in column {column!r} ({shown}{more})")
