"""`nova backtest` / `nova forecast`: clear messages and exit code 2 on bad input, files on good input."""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nova_assets.forecast_cli import EXIT_BAD_INPUT, add_forecast_commands
from tests.unit.forecast_data import history, weekly_panel


def _nova(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="nova")
    add_forecast_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "demand.csv") -> Path:
    path = tmp_path / name
    frame.to_parquet(path) if name.endswith(".parquet") else frame.to_csv(path, index=False)
    return path


def _demand_table(weeks: int = 10) -> pd.DataFrame:
    frame = history(weekly_panel(n_series=3, weeks=weeks))
    return frame.rename(columns={"unique_id": "item_id", "ds": "date", "y": "demand"})


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            pd.DataFrame({"item_id": ["a"], "day": ["2024-01-01"], "demand": [1]}),
            "no date column among item_id, day, demand",
        ),
        (pd.DataFrame({"part": ["a"], "date": ["2024-01-01"], "demand": [1]}), "no id column among part, date, demand"),
        (
            pd.DataFrame({"item_id": ["a", "a"], "date": ["2024-01-01", "2024-01-02"], "demand": [1, "two"]}),
            "1 row(s) with a missing, non-numeric or negative demand in column 'demand' (line 3: 'two')",
        ),
        (
            pd.DataFrame({"item_id": ["a", "a"], "date": ["2024-01-01", "soon"], "demand": [1, 2]}),
            "1 row(s) with a missing or unreadable date in column 'date' (line 3: 'soon')",
        ),
        (
            pd.DataFrame({"item_id": ["a", "a"], "date": ["2024-01-01", "2024-01-02"], "demand": [1, -2]}),
            "1 row(s) with a missing, non-numeric or negative demand in column 'demand' (line 3: '-2')",
        ),
    ],
)
def test_bad_input_names_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture, table: pd.DataFrame, message: str
) -> None:
    path = _write(tmp_path, table)
    code = _nova(
        "forecast", "--input", str(path), "--freq", "D", "--horizon", "7", "--output", str(tmp_path / "out.csv")
    )
    assert code == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


def test_other_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _write(tmp_path, _demand_table(weeks=3))
    assert (
        _nova(
            "forecast",
            "--input",
            str(tmp_path / "nope.csv"),
            "--freq",
            "D",
            "--horizon",
            "7",
            "--output",
            str(tmp_path / "out.csv"),
        )
        == EXIT_BAD_INPUT
    )
    assert "does not exist" in capsys.readouterr().err
    assert (
        _nova("forecast", "--input", str(path), "--freq", "D", "--horizon", "7", "--output", str(tmp_path / "out.xlsx"))
        == EXIT_BAD_INPUT
    )
    assert "--output must end in .csv or .parquet" in capsys.readouterr().err
    assert (
        _nova("backtest", "--input", str(path), "--freq", "D", "--horizon", "14", "--output", str(tmp_path))
        == EXIT_BAD_INPUT
    )
    assert "21 periods of history" in capsys.readouterr().err
    assert (
        _nova(
            "forecast",
            "--input",
            str(path),
            "--freq",
            "D",
            "--horizon",
            "3",
            "--families",
            "magic",
            "--output",
            str(tmp_path / "out.csv"),
        )
        == EXIT_BAD_INPUT
    )
    assert "unknown model families ['magic']" in capsys.readouterr().err


def test_forecast_writes_ensemble_members_and_quantiles(tmp_path: Path) -> None:
    path = _write(tmp_path, _demand_table(), "demand.parquet")
    out = tmp_path / "forecast.csv"
    assert (
        _nova(
            "forecast",
            "--input",
            str(path),
            "--freq",
            "D",
            "--horizon",
            "7",
            "--families",
            "intermittent",
            "--output",
            str(out),
        )
        == 0
    )
    table = pd.read_csv(out)
    assert len(table) == 3 * 7
    assert {
        "item_id",
        "period",
        "demand_class",
        "ensemble",
        "SeasonalNaive",
        "ADIDA",
        "p50",
        "p90",
        "p95",
        "cum_p95",
    } <= set(table.columns)
    assert (table[["ensemble", "p50", "p90", "p95"]] >= 0).all().all()
    assert (table["p90"] <= table["p95"]).all()


def test_backtest_prints_the_table_and_writes_metrics(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _write(tmp_path, _demand_table())
    monthly = tmp_path / "out"
    assert (
        _nova(
            "backtest",
            "--input",
            str(path),
            "--freq",
            "D",
            "--horizon",
            "7",
            "--families",
            "intermittent",
            "--output",
            str(monthly),
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "Ensemble" in captured.out and "ADIDA" in captured.out
    assert "intermittent: done" in captured.err  # progress goes to stderr, with the series each family forecast
    assert "baseline: done" in captured.err and "3 series forecast" in captured.err
    report = json.loads((monthly / "metrics.json").read_text())
    models = {row["model"]: row for row in report["models"]}
    assert {"Ensemble", "ADIDA", "SeasonalNaive", "Zero"} <= set(models)
    assert np.isfinite(models["Ensemble"]["mase"]) and "coverage_cum_p90" in report["coverage"]
