"""The one reader of users' long demand tables: columns found by name, ';' or ',', dates by explicit
forms only, bad rows named."""

import warnings
from pathlib import Path

import pandas as pd
import pytest

from nova_assets.lib.long_table import InputError, long_demand, read_long_table
from tests.unit.test_forecast_cli import _nova


def test_semicolon_tables_and_other_column_names_are_read(tmp_path: Path) -> None:
    path = tmp_path / "consumo.csv"
    path.write_text("SKU;Month;Qty\nA;2020-01;2\nA;2020-02;0\nB;2020-02;5\n")
    frame = long_demand(read_long_table(path))
    assert frame["unique_id"].tolist() == ["A", "A", "B"] and frame["y"].tolist() == [2.0, 0.0, 5.0]
    assert frame["ds"].tolist() == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-01"), pd.Timestamp("2020-02-01")]


def test_bad_rows_are_named_with_their_values(tmp_path: Path) -> None:
    path = tmp_path / "demand.csv"
    rows = ["2", "", "x", "-1", "3", "NA"]
    path.write_text("item_id,date,demand\n" + "".join(f"A,2020-01-0{i + 1},{v}\n" for i, v in enumerate(rows)))
    with pytest.raises(InputError) as error:
        long_demand(read_long_table(path))
    assert str(error.value) == (
        "4 row(s) with a missing, non-numeric or negative demand in column 'demand' "
        "(line 3: empty, line 4: 'x', line 5: '-1' and 1 more)"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("item_id,date,demand\n", "the table has no rows"),
        ("part,date,demand\nA,2020-01-01,1\n", "no id column among part, date, demand"),
    ],
)
def test_unusable_files_say_why(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "demand.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=message):
        long_demand(read_long_table(path))


def _dates_of(tmp_path: Path, dates: list[str]) -> list[pd.Timestamp]:
    """The dates `long_demand` reads from a one-item CSV, with any warning an error."""
    path = tmp_path / "demand.csv"
    path.write_text("item_id;date;demand\n" + "".join(f"A;{d};1\n" for d in dates))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return long_demand(read_long_table(path))["ds"].tolist()


def test_brazilian_dates_are_day_first(tmp_path: Path) -> None:
    """A guessed format read 01/02/2022 as 2 January and refused 13/01/2022 after it."""
    dates = _dates_of(tmp_path, ["01/02/2022", "13/01/2022", "12/03/2022", "1/4/2022", "05/06/2022 14:30"])
    assert dates == [
        pd.Timestamp("2022-02-01"),
        pd.Timestamp("2022-01-13"),
        pd.Timestamp("2022-03-12"),
        pd.Timestamp("2022-04-01"),
        pd.Timestamp("2022-06-05 14:30"),
    ]


def test_iso_dates_months_and_times_are_read(tmp_path: Path) -> None:
    dates = _dates_of(tmp_path, ["2022-03", "2022-03-05", "2022-03-05 10:30", "2022-03-05T10:30:15", " 2022-04-01 "])
    assert dates == [
        pd.Timestamp("2022-03-01"),
        pd.Timestamp("2022-03-05"),
        pd.Timestamp("2022-03-05 10:30"),
        pd.Timestamp("2022-03-05 10:30:15"),
        pd.Timestamp("2022-04-01"),
    ]


@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("bad", ["2022/31/01", "31-01-2022", "Feb 2022", "02/31/2022", "01/02/22", "20220201"])
def test_other_date_forms_are_refused_without_a_warning(tmp_path: Path, bad: str, first: bool) -> None:
    """Month-first, two-digit years and the like are never guessed, wherever they are in the file."""
    dates = [bad, "2022-01-01"] if first else ["2022-01-01", bad]
    with pytest.raises(InputError) as error:
        _dates_of(tmp_path, dates)
    assert str(error.value) == (
        f"1 row(s) with a missing or unreadable date in column 'date' (line {2 if first else 3}: {bad!r}); "
        "dates must be YYYY-MM-DD (optionally with a time), YYYY-MM or dd/mm/yyyy"
    )


@pytest.mark.parametrize(
    "header", ["Material;Data;Quantidade", "codigo_material;Mês;consumo", "cod_material;semana;demanda"]
)
def test_portuguese_column_names_are_found(tmp_path: Path, header: str) -> None:
    path = tmp_path / "consumo.csv"
    path.write_text(f"{header}\nA;01/02/2022;7\n")
    frame = long_demand(read_long_table(path))
    assert frame.to_dict("records") == [{"unique_id": "A", "ds": pd.Timestamp("2022-02-01"), "y": 7.0}]


def test_forecast_of_a_brazilian_monthly_file(tmp_path: Path) -> None:
    """`nova forecast` on dd/mm/yyyy months forecasts the months after the last, at the table's level."""
    path = tmp_path / "br.csv"
    months = pd.period_range("2022-01", "2024-12", freq="M")
    path.write_text("item_id;date;demand\n" + "".join(f"A;{m.start_time:%d/%m/%Y};7\n" for m in months))
    out = tmp_path / "fc.csv"
    argv = ["--freq", "M", "--horizon", "3", "--families", "intermittent", "--output", str(out)]
    assert _nova("forecast", "--input", str(path), *argv) == 0
    table = pd.read_csv(out)
    assert table["period"].tolist() == ["2025-01", "2025-02", "2025-03"]
    assert table["ensemble"].tolist() == pytest.approx([7.0] * 3)


def test_a_csvs_bad_rows_are_named_by_their_line_in_the_file(tmp_path: Path) -> None:
    """As an editor numbers them, blank lines included; a table in memory keeps its row numbers."""
    path = tmp_path / "demand.csv"
    path.write_text("item_id;date;demand\nA;2020-01-01;1\n\nA;2020-02-01;x\n\n")
    with pytest.raises(InputError, match=r"\(line 4: 'x'\)"):
        long_demand(read_long_table(path))
    table = pd.DataFrame({"item_id": ["A", "A"], "date": ["2020-01-01", "2020-02-01"], "demand": ["1", "x"]})
    with pytest.raises(InputError, match=r"\(row 2: 'x'\)"):
        long_demand(table)
