"""The one reader of users' long demand tables: columns found by name, ';' or ',', bad rows named."""

from pathlib import Path

import pandas as pd
import pytest

from nova_assets.lib.long_table import InputError, long_demand, read_long_table


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
        "(row 2: empty, row 3: 'x', row 4: '-1' and 1 more)"
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
