"""ERP import benchmark: the SYNTHETIC sample of N materials generated in a scratch folder, then the ERP
import alone (the `erp_tables` asset, as `nova erp import` runs it) timed and its memory sampled.

    python bench/erp_import_bench.py --materials 1000 10000 50000
    python bench/erp_import_bench.py --materials 1000 --code /tmp/nova-old   # another checkout's import

For every size the bench makes a throw-away folder (landing, lake; nothing of the project's `data/` is
touched), writes the sample there with the project's generator (in its own process, also measured),
and runs the import in a fresh process with `NOVA_LANDING_DIR`/`NOVA_LAKE_DIR`-style resources pointing
at it; `--code` puts another checkout first on that process's path (to measure an older import on the
same sample). Memory is sampled once a second from /proc over the process tree (as bench/cycle_bench.py
does): the peak summed PSS and the largest single-process RSS. Afterwards it prints the row count and
the totals of every raw ERP table, so two imports of the same sample can be compared.

Every figure describes the synthetic sample on this machine, never a real business.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
from cycle_bench import TreeMemory, watch_memory

from nova_assets.lib.sample import SYNTHETIC_MARKER, is_synthetic
from nova_assets.lib.sources.erp_files import ERP_TABLES
from nova_assets.settings import PROJECT_ROOT

GENERATE = """
import sys
from nova_assets.cli import ensure_sample
ensure_sample(dict(zip(["NOVA_LANDING_DIR", "NOVA_SNAPSHOT_DIR", "NOVA_SAMPLE_MATERIALS", "NOVA_SAMPLE_SITES",
                        "NOVA_SAMPLE_YEARS"], sys.argv[1:])), force=True)
"""
IMPORT = """
import json, sys, time
import dagster as dg
from nova_assets.defs.ingest.erp import erp_tables
from nova_assets.resources import LakeResource, SourcesResource
landing, lake, snapshots, as_of = sys.argv[1:]
started = time.monotonic()
result = dg.materialize(
    [erp_tables],
    resources={"sources": SourcesResource(landing_dir=landing, snapshot_dir=snapshots, as_of_date=as_of),
               "lake": LakeResource(lake_dir=lake)},
    raise_on_error=False,
)
print(json.dumps({"seconds": round(time.monotonic() - started, 1), "success": result.success}))
"""


@dataclass
class ImportTiming:
    materials: int
    sites: int
    years: int
    code: str
    movement_lines: int = 0
    landing_mib: float = 0.0
    sample_seconds: float = 0.0
    sample_memory: TreeMemory = field(default_factory=TreeMemory)
    import_seconds: float = 0.0  # the materialization, inside the import process
    process_seconds: float = 0.0  # the import process, Python start and imports included
    succeeded: bool = False
    import_memory: TreeMemory = field(default_factory=TreeMemory)
    tables: dict[str, dict[str, float]] = field(default_factory=dict)


def measured(command: list[str], env: dict[str, str], memory: TreeMemory, log: Path) -> tuple[int, float, str]:
    """Run `command` in the log's folder, sampling its process tree's memory; (exit code, seconds, stdout).
    Not in the project's folder: `python -c` puts its working folder first on the path, before the
    PYTHONPATH that chooses the checkout (--code)."""
    done = threading.Event()
    started = time.monotonic()
    with log.open("w") as err:
        process = subprocess.Popen(command, cwd=log.parent, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        watcher = threading.Thread(target=watch_memory, args=(process.pid, memory, done, 0.5), daemon=True)
        watcher.start()
        out, _ = process.communicate()
    done.set()
    watcher.join()
    return process.returncode, time.monotonic() - started, out


def table_totals(lake: Path) -> dict[str, dict[str, float]]:
    """Rows and the sum of every numeric column of each raw ERP table."""
    totals = {}
    with duckdb.connect() as con:
        for table, spec in ERP_TABLES.items():
            path = lake / "raw" / f"{table}.parquet"
            if not path.exists():
                continue
            numeric = [c for c, column in spec.columns.items() if column.kind == "float"]
            sums = "".join(f", round(sum({c}), 3)" for c in numeric)
            row = con.execute(f"SELECT count(*){sums} FROM read_parquet('{path}')").fetchone()
            totals[table] = {"rows": int(row[0]), **{c: float(v or 0) for c, v in zip(numeric, row[1:], strict=True)}}
    return totals


def run(materials: int, sites: int, years: int, code: Path, workdir: Path, samples: Path | None) -> ImportTiming:
    timing = ImportTiming(materials, sites, years, str(code))
    landing = (samples / f"{materials}x{sites}x{years}" if samples else workdir) / "landing"
    lake = workdir / "lake"
    snapshots = str(PROJECT_ROOT / "data" / "snapshots")
    env = {**os.environ, "PYTHONPATH": str(code)}
    if not is_synthetic(landing):
        status, seconds, _ = measured(
            [sys.executable, "-c", GENERATE, str(landing), snapshots, str(materials), str(sites), str(years)],
            {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            timing.sample_memory,
            workdir / "generate.log",
        )
        if status != 0:
            raise RuntimeError(f"the generator failed: see {workdir / 'generate.log'}")
        timing.sample_seconds = round(seconds, 1)
    movements = landing / "erp" / "movements.csv"
    with movements.open("rb") as handle:
        timing.movement_lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))
    timing.landing_mib = round(sum(p.stat().st_size for p in (landing / "erp").iterdir()) / 2**20, 1)
    period = re.search(r"period (\S+) \.\. (\S+)\)", (landing / SYNTHETIC_MARKER).read_text(encoding="utf-8"))
    as_of = period.group(2) if period else ""
    print(
        f"{materials} materials: {timing.movement_lines:,} movement lines, {timing.landing_mib} MiB of exports, "
        f"generated in {timing.sample_seconds} s (0: reused), peak RSS "
        f"{timing.sample_memory.peak_process_rss_mib:.0f} MiB; "
        f"importing with {code} ...",
        flush=True,
    )
    status, seconds, out = measured(
        [sys.executable, "-c", IMPORT, str(landing), str(lake), snapshots, as_of], env, timing.import_memory,
        workdir / "import.log",
    )  # fmt: skip
    timing.process_seconds = round(seconds, 1)
    if status == 0 and out.strip():
        reported = json.loads(out.strip().splitlines()[-1])
        timing.import_seconds, timing.succeeded = reported["seconds"], reported["success"]
    timing.tables = table_totals(lake)
    return timing


def report(timings: list[ImportTiming]) -> str:
    head = ["materials", "movement lines", "exports MiB", "code", "import s", "process s", "peak RSS", "peak PSS",
            "generator s", "generator peak RSS"]  # fmt: skip
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for t in timings:
        rows.append(
            "| "
            + " | ".join(
                [
                    f"{t.materials:,}",
                    f"{t.movement_lines:,}",
                    f"{t.landing_mib:,.0f}",
                    Path(t.code).name,
                    f"{t.import_seconds:.1f}" + ("" if t.succeeded else " (FAILED)"),
                    f"{t.process_seconds:.1f}",
                    f"{t.import_memory.peak_process_rss_mib / 1024:.2f} GiB",
                    f"{t.import_memory.peak_pss_mib / 1024:.2f} GiB",
                    f"{t.sample_seconds:.0f}",
                    f"{t.sample_memory.peak_process_rss_mib / 1024:.2f} GiB",
                ]
            )
            + " |"
        )
    for t in timings:
        rows.append(f"\n{t.materials:,} materials, {Path(t.code).name}: raw tables")
        rows += [f"  {table}: {json.dumps(values)}" for table, values in t.tables.items()]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--materials", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--sites", type=int, default=12)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--code", type=Path, default=PROJECT_ROOT, help="checkout whose import runs (default: this)")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "data" / "bench" / "erp_import")
    parser.add_argument("--keep", action="store_true", help="keep each size's scratch folder")
    parser.add_argument(
        "--samples", type=Path, help="keep the generated samples here and reuse them (the import always starts empty)"
    )
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    timings = []
    for materials in args.materials:
        workdir = Path(tempfile.mkdtemp(prefix=f"nova-erp-import-{materials}-"))
        try:
            timings.append(run(materials, args.sites, args.years, args.code.resolve(), workdir, args.samples))
        finally:
            for log in ("generate.log", "import.log"):
                if (workdir / log).exists():
                    shutil.copy(workdir / log, args.output / f"{materials}-{log}")
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
        (args.output / "timings.json").write_text(json.dumps([asdict(t) for t in timings], indent=2))
        print(report(timings), flush=True)
    return 0 if all(t.succeeded for t in timings) else 1


if __name__ == "__main__":
    sys.exit(main())
