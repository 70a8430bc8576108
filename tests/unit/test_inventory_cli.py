"""`nova policy-backtest` and the long-table reader behind it."""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nova_assets.forecast_cli import EXIT_BAD_INPUT
from nova_assets.inventory_cli import add_inventory_commands
from nova_assets.lib.forecasting.demand_input import read_demand
from nova_assets.lib.inventory.demand_table import to_matrix
from nova_assets.lib.long_table import PERIODS, PERIODS_HELP, read_long_table


def test_long_table_to_monthly_matrix() -> None:
    table = pd.DataFrame(
        {
            "item_id": ["a", "a", "a", "b", "b"],
            "month": ["2020-01", "2020-01", "2020-03", "2020-02", "2020-04"],
            "demand": ["1", "2", "4", "0", "5"],
        }
    )
    matrix = to_matrix(table, "M")
    assert list(matrix.items) == ["a", "b"]
    assert [str(p) for p in matrix.periods] == ["2020-01", "2020-02", "2020-03", "2020-04"]
    # a: summed, missing February is zero; b starts at its first positive demand (April)
    np.testing.assert_array_equal(matrix.values[0], [3, 0, 4, 0])
    assert np.isnan(matrix.values[1, :3]).all() and matrix.values[1, 3] == 5
    kept = to_matrix(table, "M", keep_leading_zeros=True)
    np.testing.assert_array_equal(kept.values[1], [np.nan, 0, 0, 5])


def test_daily_rows_sum_into_weeks_and_columns_can_be_named() -> None:
    table = pd.DataFrame({"sku": ["x"] * 8, "dia": pd.date_range("2024-01-01", periods=8), "qtd": [1.0] * 8})
    matrix = to_matrix(table, "W", id_col="sku", date_col="dia", value_col="qtd")
    np.testing.assert_array_equal(matrix.values[0], [7, 1])  # Mon..Sun, then Monday


def test_the_forecast_and_the_replay_sum_a_table_into_the_same_weeks(tmp_path: Path) -> None:
    """Both read a table's dates into lib.long_table.PERIODS: a week holds the same days in each."""
    days = pd.date_range("2024-01-03", periods=40, freq="D")  # a Wednesday start: partial first week
    quantities = np.arange(1.0, 41.0)
    path = tmp_path / "daily.csv"
    pd.DataFrame({"item_id": "x", "date": days.strftime("%Y-%m-%d"), "demand": quantities}).to_csv(path, index=False)
    history, _ = read_demand(path, "W")
    matrix = to_matrix(read_long_table(path), "W")
    np.testing.assert_array_equal(history["y"].to_numpy(), matrix.values[0])
    assert list(history["ds"]) == list(matrix.periods.start_time) and history["ds"].iloc[0].day_name() == "Monday"


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="no id column"):
        to_matrix(pd.DataFrame({"foo": [1], "date": ["2020-01-01"], "y": [1]}), "D")
    with pytest.raises(ValueError, match="negative"):
        to_matrix(pd.DataFrame({"unique_id": ["a"], "ds": ["2020-01-01"], "y": [-1]}), "D")
    with pytest.raises(ValueError, match="freq"):
        to_matrix(pd.DataFrame({"unique_id": ["a"], "ds": ["2020-01-01"], "y": [1]}), "Q")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nova")
    add_inventory_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def test_policy_backtest_command_prints_the_comparison(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(3)
    months = pd.period_range("2018-01", periods=48, freq="M").astype(str)
    rows = [
        {"item_id": f"p{i}", "month": m, "demand": int(v)}
        for i in range(30)
        for m, v in zip(months, rng.binomial(1, 0.4, 48) * rng.poisson(3, 48), strict=True)
    ]
    path = tmp_path / "demand.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    out = tmp_path / "items.csv"
    args = _parser().parse_args(
        [
            "policy-backtest",
            "--input",
            str(path),
            "--freq",
            "M",
            "--lead-time",
            "2",
            "--service-level",
            "0.9",
            "--output",
            str(out),
        ]
    )
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "30 items, 48 periods" in printed
    assert "| project" in printed and "| baseline_design" in printed
    assert "Project policy: csl" in printed
    per_item = pd.read_csv(out)
    assert set(per_item["policy"]) == {"project", "baseline_design"} and len(per_item) == 60


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "missing.csv: does not exist"),
        ("item_id,date,demand\nA,2020-01-01,1\nA,2020-02-01,x\nA,2020-03-01,-2\n", "2 row(s) with a missing, "
         "non-numeric or negative demand in column 'demand' (line 3: 'x', line 4: '-2')"),
        ("item_id,date,demand\nA,2020-01-01,1\nA,2020-13-01,2\n", "1 row(s) with a missing or unreadable date in "
         "column 'date' (line 3: '2020-13-01')"),
        ("item_id,date,demand\n" + "".join(f"A,2020-{m:02d}-01,0\n" for m in range(1, 13)), "nothing to replay"),
        ("part,date,demand\nA,2020-01-01,1\n", "no id column among part, date, demand (one of unique_id, item_id, "
         "material_id, item, sku, id, material, codigo_material, cod_material); or name it with --id-col"),
    ],
)  # fmt: skip
def test_policy_backtest_names_what_is_wrong_with_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture, content: str | None, message: str
) -> None:
    path = tmp_path / "missing.csv"
    if content is not None:
        path.write_text(content)
    args = _parser().parse_args(["policy-backtest", "--input", str(path), "--freq", "M", "--lead-time", "1"])
    assert args.func(args) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("nova policy-backtest: error: missing.csv: ") and message in err


def test_policy_backtest_arguments_are_validated() -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["policy-backtest", "--input", "x.csv", "--freq", "Y", "--lead-time", "2"])


def test_the_forecast_and_the_replay_offer_the_same_periods() -> None:
    from nova_assets.cli import build_parser

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices

    def freq(command: str) -> argparse.Action:
        return next(a for a in commands[command]._actions if "--freq" in a.option_strings)

    for command in ("forecast", "backtest", "policy-backtest"):
        assert tuple(freq(command).choices) == tuple(PERIODS), command
        assert freq(command).help == PERIODS_HELP, command
