"""Every `nova` command starts light: its help, and the settings it reads first, import none of the heavy
libraries (they cost about a second per start); each command imports what it needs when it runs.

What is loaded is tested, not the time (bench/cli_start.py measures that): a fresh process runs the
command line with the arguments and lists which of HEAVY it imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# what the command line imported before it was made light (pandas, duckdb, pyarrow, httpx, psycopg,
# argon2 through the settings and the command modules), and what a command's work needs
HEAVY = (
    "pandas",
    "numpy",
    "duckdb",
    "pyarrow",
    "httpx",
    "holidays",
    "psycopg",
    "argon2",
    "scipy",
    "dagster",
    "mlflow",
)
# a fresh process runs the command line; it prints the command's first line of output, then which of
# `modules` it imported
PROBE = """
import contextlib, io, sys
from nova_assets.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
    main(sys.argv[1:])
print([*out.getvalue().splitlines(), ""][0])
print(" ".join(m for m in {modules!r} if m in sys.modules))
"""


def run_command(argv: list[str], modules: tuple[str, ...], env: dict[str, str] | None = None) -> tuple[str, str]:
    """The command's first line of output and the names of `modules` it imported."""
    probe = subprocess.run(
        [sys.executable, "-c", PROBE.format(modules=modules), *argv], capture_output=True, text=True, env=env
    )
    assert probe.returncode == 0, probe.stderr
    first, loaded = probe.stdout.splitlines()[-2:]
    return first, loaded


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["forecast", "--help"],
        ["policy-backtest", "--help"],
        ["erp", "--help"],
        ["users", "add", "--help"],
        ["settings"],  # reads and checks every setting
    ],
    ids=" ".join,
)
def test_a_command_line_start_imports_no_heavy_library(argv: list[str]) -> None:
    _, loaded = run_command(argv, HEAVY)
    assert loaded.split() == [], f"`nova {' '.join(argv)}` imported {loaded}"


# the daily cycle's libraries: the ERP import needs none of them
CYCLE_ONLY = ("mlflow", "dbt", "dagster_dbt", "statsforecast", "statsmodels", "prophet", "torch", "lightgbm", "xgboost")


def test_the_erp_import_loads_none_of_the_cycles_libraries(tmp_path: Path) -> None:
    """`nova erp import` is the administrator's quick check of new exports: it loads the ERP tables
    without the forecasting, MLflow and dbt libraries (they took 8 of its 14 s)."""
    (tmp_path / "landing" / "erp").mkdir(parents=True)
    env = {**os.environ, "NOVA_LANDING_DIR": str(tmp_path / "landing"), "NOVA_LAKE_DIR": str(tmp_path / "lake")}
    started, loaded = run_command(["erp", "import"], CYCLE_ONLY, env)
    assert started.startswith("ERP import: "), started
    assert loaded.split() == [], f"`nova erp import` imported {loaded}"
