"""Every `nova` command starts light: its help, and the settings it reads first, import none of the heavy
libraries (they cost about a second per start); each command imports what it needs when it runs.

What is loaded is tested, not the time (bench/cli_start.py measures that): a fresh process runs the
command line with the arguments and lists which of HEAVY it imported.
"""

from __future__ import annotations

import subprocess
import sys

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
PROBE = """
import contextlib, io, sys
from nova_assets.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(sys.argv[1:])
print(" ".join(m for m in {heavy!r} if m in sys.modules))
"""


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
    probe = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv], capture_output=True, text=True, check=True
    )
    assert probe.stdout.split() == [], f"`nova {' '.join(argv)}` imported {probe.stdout.strip()}"
