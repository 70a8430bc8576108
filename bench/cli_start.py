"""How long a `nova` command takes before it does anything: `nova --help` (or any arguments given),
run as a fresh process several times, and the libraries the command line imported on the way.

    .venv/bin/python bench/cli_start.py [--runs 7] [-- ARGS ...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("pandas", "duckdb", "psycopg", "argon2", "scipy", "dagster", "mlflow", "lightgbm", "statsforecast", "torch")
PROBE = "import sys, nova_assets.cli; print(' '.join(m for m in {heavy!r} if m in sys.modules))"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("args", nargs="*", default=["--help"], help="the nova command's arguments (default --help)")
    options = parser.parse_args()
    command = [sys.executable, "-m", "nova_assets.cli", *options.args]
    seconds = []
    for _ in range(options.runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        seconds.append(time.perf_counter() - started)
    imported = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY)], capture_output=True, text=True, check=True
    ).stdout.split()
    print(
        f"nova {' '.join(options.args)}: {options.runs} runs, median {statistics.median(seconds):.2f} s, "
        f"fastest {min(seconds):.2f} s, slowest {max(seconds):.2f} s"
    )
    print(f"imported by the command line: {', '.join(imported) or 'none of ' + ', '.join(HEAVY)}")


if __name__ == "__main__":
    main()
