"""A user's long demand table (item, date, quantity; CSV or Parquet), read and checked in one place.

`nova forecast`, `nova backtest`, `nova evaluate` and `nova policy-backtest` read their input here,
and the bench scripts with them. Columns are found by name (ID_COLUMNS, DATE_COLUMNS,
VALUE_COLUMNS, in any case, accents or not) or named by the caller; a CSV's delimiter, ',' or ';', is
taken from its header line. Dates are read by explicit formats only (DATE_FORMATS), never guessed.
Anything unusable raises InputError naming the rows and values at fault: a CSV's by their line in
the file (the header is line 1), as an editor shows them and as the ERP import names them; any other
table's as data rows (1 = the first row). The caller names the file.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

# pandas and numpy are imported by the functions that use them: the `nova` command line takes its
# periods and errors from here when it starts, before any table is read
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# English first, then the Portuguese names an ERP export uses (spelled as in sources.erp_columns).
ID_COLUMNS = ("unique_id", "item_id", "material_id", "item", "sku", "id", "material", "codigo_material", "cod_material")
DATE_COLUMNS = (
    *("ds", "date", "month", "week", "period", "movement_date"),
    *("data", "mes", "semana", "periodo", "dia", "data_movimento"),
)
VALUE_COLUMNS = (
    *("y", "demand", "quantity", "qty", "value", "sales"),
    *("quantidade", "qtd", "qtde", "demanda", "consumo", "vendas"),
)
# The text forms of a date: the ERP import's (ISO, optionally with a time, or dd/mm/yyyy) plus YYYY-MM,
# each read by its own pandas format and no other: a guess reads 01/02/2022 as 2 January and warns on
# the values it cannot guess. DATE_FORMS names them for the user.
DATE_FORMS = "YYYY-MM-DD (optionally with a time), YYYY-MM or dd/mm/yyyy"
DATE_FORMATS = (
    *("%Y-%m-%d", "%d/%m/%Y", "%Y-%m"),  # the common forms first: most tables are read in one pass
    *(f"%Y-%m-%d{sep}{time}" for sep in (" ", "T") for time in ("%H:%M", "%H:%M:%S", "%H:%M:%S.%f")),
    *("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"),
)
SHOWN_ROWS = 3  # rows quoted in a message; the count says how many more
FIRST_LINE = "first_line"  # attrs key of a CSV's table: the file line of index 0 (the index skips blank lines)
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
    import pandas as pd

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
            lines = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=False)
            table = lines[~lines.isna().all(axis=1)]  # blank lines dropped, each row's index its line - 2
            table.attrs[FIRST_LINE] = 2
    except Exception as exc:  # any reader failure is the file's problem, reported as such
        raise InputError(f"cannot be read as {'Parquet' if parquet else 'CSV'}: {exc}") from exc
    table.columns = [str(c).strip() for c in table.columns]
    return table


def long_demand(
    table: pd.DataFrame, id_col: str | None = None, date_col: str | None = None, value_col: str | None = None
) -> pd.DataFrame:
    """unique_id (text), ds (timestamp) and y (float >= 0) of every row; InputError on a missing
    column, an empty table, or rows whose date or demand is missing, unreadable or negative."""
    import pandas as pd

    uid = _column(table.columns, id_col, ID_COLUMNS, "id")
    when = _column(table.columns, date_col, DATE_COLUMNS, "date")
    value = _column(table.columns, value_col, VALUE_COLUMNS, "value")
    if table.empty:
        raise InputError("the table has no rows")
    dates = table[when]
    if not pd.api.types.is_datetime64_any_dtype(dates):  # text, dates or periods of a file
        dates = _read_dates(dates)
    if dates.isna().any():
        raise _bad_rows(
            dates.isna().to_numpy(), table[when], when, "a missing or unreadable date", f"dates must be {DATE_FORMS}"
        )
    y = pd.to_numeric(table[value], errors="coerce")
    if y.isna().any() or (y < 0).any():
        raise _bad_rows(
            (y.isna() | (y < 0)).to_numpy(), table[value], value, "a missing, non-numeric or negative demand"
        )
    return pd.DataFrame(
        {"unique_id": table[uid].astype(str).to_numpy(), "ds": dates.to_numpy(), "y": y.to_numpy(float)}
    )


def _read_dates(values: pd.Series) -> pd.Series:
    """Each value as a timestamp, NaT where no DATE_FORMATS fits: the ERP import's forms
    (sources.erp_files._date: ISO YYYY-MM-DD, optionally with a time, or Brazilian dd/mm/yyyy, day
    first, never month first) plus YYYY-MM for a month. Each distinct value is read once (a table
    repeats its dates across items, and pandas' own cache gives up when the first rows differ), each
    format on the values the earlier ones left."""
    import numpy as np
    import pandas as pd

    codes, distinct = pd.factorize(values)  # a missing value is code -1
    text = pd.Series(distinct).astype(str).str.strip().to_numpy(object)
    dates = np.full(len(text) + 1, np.datetime64("NaT"), "datetime64[ns]")  # the last one for code -1
    left = np.arange(len(text))
    for form in DATE_FORMATS:
        if not left.size:
            break
        parsed = pd.to_datetime(text[left], format=form, errors="coerce").to_numpy()
        read = ~np.isnat(parsed)
        dates[left[read]] = parsed[read]
        left = left[~read]
    return pd.Series(dates[codes], index=values.index)


def _column(columns: pd.Index, wanted: str | None, candidates: tuple[str, ...], what: str) -> str:
    if wanted:
        if wanted not in columns:
            raise InputError(f"column {wanted!r} not in the table (columns: {', '.join(columns)})")
        return wanted
    plain = {_plain(c): c for c in columns}
    found = next((plain[name] for name in candidates if name in plain), None)
    if found is None:
        raise MissingColumn(f"no {what} column among {', '.join(columns)} (one of {', '.join(candidates)})", what)
    return found


def _plain(name: str) -> str:
    """A column name as the candidate lists spell it: lower case, accents dropped (Mês is mes)."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()


def _bad_rows(bad: np.ndarray, raw: pd.Series, column: str, problem: str, rule: str | None = None) -> InputError:
    import numpy as np
    import pandas as pd

    rows = np.flatnonzero(bad)
    first_line = raw.attrs.get(FIRST_LINE)
    where = [f"line {raw.index[i] + first_line}" if first_line else f"row {i + 1}" for i in rows[:SHOWN_ROWS]]
    shown = ", ".join(
        f"{at}: {raw.iloc[i]!r}" if pd.notna(raw.iloc[i]) else f"{at}: empty"
        for at, i in zip(where, rows[:SHOWN_ROWS], strict=True)
    )
    more = f" and {len(rows) - SHOWN_ROWS} more" if len(rows) > SHOWN_ROWS else ""
    rule = f"; {rule}" if rule else ""
    return InputError(f"{len(rows)} row(s) with {problem} in column {column!r} ({shown}{more}){rule}")
