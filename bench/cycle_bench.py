"""Whole-cycle benchmark: the `daily_cycle` job on generated businesses of N materials, timed per layer.

    python bench/cycle_bench.py                      # 200, 1,000 and 10,000 materials
    python bench/cycle_bench.py --materials 200 1000 --output /tmp/cycle
    python bench/cycle_bench.py --materials 10000 --next-day   # a backtest day, then the next day's cycle
    python bench/cycle_bench.py --materials 10000 --next-backtest  # a cold backtest, the next one, its next day

For every size the bench makes a throw-away project-data folder (its own PostgreSQL cluster on a
free port, lake, landing folder, MLflow store and Dagster instance: nothing of the project's own
`data/` is touched), writes the SYNTHETIC sample business there with `nova`'s generator, and runs
the job exactly as `nova run` does (`dagster job execute`, the multiprocess executor). Then it
reads the run's step timings from the Dagster event log and reports, per layer (the assets'
group), the wall span (first step start to last step end; layers overlap, since independent steps
run in parallel) and the step-seconds (sum of step durations). Interrupted (Ctrl-C, SIGTERM), a size
is reported as STOPPED with the steps it finished, and the bench ends. Memory is sampled once a second
from /proc over the whole process tree of the run: the peak of the summed PSS (shared pages split
between the processes sharing them) and the largest single process RSS.

With --next-day, a size runs two cycles, as production does on consecutive days: the first on the
sample up to its last backtest day (NOVA_BACKTEST_EVERY_DAYS: every family backtests), the second on
the next day's movements, delivered as a new export file (every family keeps its backtest and refits
on all history only; the ERP tables are rebuilt from all files, as every day).

With --next-backtest, a size runs three: a first cycle one backtest period (NOVA_BACKTEST_EVERY_DAYS)
before the last backtest day (nothing stored: a cold start), the last backtest day after the period's
movements (one export file per day; every family fits the one new window and keeps the others, the
statistical one starting from most model forms of the first, pipeline.run_family), then the next day.
These are the three kinds of day of a running system.

Every figure describes the synthetic sample on this machine, never a real business.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl
from scratch import scratch_stack

from nova_assets.cli import MAIN_JOB, cycle_partition, ensure_sample, job_execute_command
from nova_assets.lib.demand_history import backtest_through
from nova_assets.services.local_stack import PROJECT_ROOT, embedded_settings, local_cluster
from nova_assets.services.postgres_server import stop
from nova_assets.services.progress import LAYERS, layer_of
from nova_assets.settings import load_settings


@dataclass
class TreeMemory:
    """Peaks of the memory of a process and its descendants, sampled from /proc."""

    peak_pss_mib: float = 0.0
    peak_process_rss_mib: float = 0.0
    peak_process_at: float = 0.0  # epoch seconds of the largest single-process sample
    samples: int = 0


@dataclass
class CycleTiming:
    materials: int
    sites: int
    years: int
    partition: str
    sample_seconds: float
    run_seconds: float
    succeeded: bool
    stopped: bool = False  # interrupted (Ctrl-C / SIGTERM): the layers hold the steps that finished
    layer_span_seconds: dict[str, float] = field(default_factory=dict)
    layer_step_seconds: dict[str, float] = field(default_factory=dict)
    steps_at_memory_peak: list[str] = field(default_factory=list)  # running when the largest process peaked
    max_parallel_forecast_steps: int = 0  # forecast-layer steps running at the same time, at most
    memory: TreeMemory = field(default_factory=TreeMemory)
    load_before: str = ""
    load_after: str = ""
    day: str = ""  # with --next-day / --next-backtest: "first backtest (cold)", "backtest day" or "next day"


def _descendants(root_pid: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        children[int(fields[1])].append(int(stat.parent.name))
    found, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _kib_field(path: Path, name: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def watch_memory(pid: int, memory: TreeMemory, done: threading.Event, interval: float = 1.0) -> None:
    """Sample the tree of `pid` until `done` is set, keeping the peaks in `memory`."""
    while not done.wait(interval):
        pss = rss_max = 0
        for member in _descendants(pid):
            pss += _kib_field(Path(f"/proc/{member}/smaps_rollup"), "Pss:")
            rss_max = max(rss_max, _kib_field(Path(f"/proc/{member}/status"), "VmRSS:"))
        memory.peak_pss_mib = max(memory.peak_pss_mib, pss / 1024)
        if rss_max / 1024 > memory.peak_process_rss_mib:
            memory.peak_process_rss_mib, memory.peak_process_at = rss_max / 1024, time.time()
        memory.samples += 1


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def step_layers(run_id: str, instance, asset_graph) -> dict[str, str]:
    """Layer of every step of the run, from the group of the assets it materializes (or planned to)."""
    layers, steps = {}, set()
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not entry.step_key:
            continue
        steps.add(entry.step_key)
        if event.asset_key is not None and asset_graph.has(event.asset_key):
            group = asset_graph.get(event.asset_key).group_name
            layers.setdefault(entry.step_key, layer_of(group))
    # a material-group step of a graph-backed asset materializes nothing itself: it takes the layer
    # of its graph (`<graph>.<op>`), known from the graph's collect step
    graphs = {step.split(".")[0]: layer for step, layer in layers.items() if "." in step}
    for step in steps - layers.keys():
        if step.split(".")[0] in graphs:
            layers[step] = graphs[step.split(".")[0]]
    return layers


def step_intervals(run_id: str, instance) -> dict[str, tuple[float, float]]:
    """Start and end (epoch seconds) of every step of the run; a step that never ended ends at its start."""
    from dagster import DagsterEventType

    starts, ends = {}, {}
    for entry in instance.all_logs(
        run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}
    ):
        if entry.dagster_event.event_type == DagsterEventType.STEP_START:
            starts[entry.step_key] = entry.timestamp
        else:
            ends[entry.step_key] = entry.timestamp
    return {step: (started, ends.get(step, started)) for step, started in starts.items()}


def layer_timings(
    intervals: dict[str, tuple[float, float]], layers: dict[str, str]
) -> tuple[dict[str, float], dict[str, float]]:
    """Per layer: wall span (first step start .. last step end) and the sum of step durations."""
    first, last, busy = {}, {}, defaultdict(float)
    for step, (started, ended) in intervals.items():
        layer = layers.get(step, "other")
        first[layer] = min(first.get(layer, started), started)
        last[layer] = max(last.get(layer, ended), ended)
        busy[layer] += ended - started
    span = {layer: round(last[layer] - first[layer], 1) for layer in first}
    return span, {layer: round(seconds, 1) for layer, seconds in busy.items()}


def max_parallel(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one instant (the fan-out actually reached)."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = most = 0
    for _, change in edges:  # at equal instants -1 sorts first: a step ending as another starts
        running += change
        most = max(most, running)
    return most


def hold_back_movements(landing: Path, through: date) -> pl.DataFrame:
    """Cut the sample's movement export after `through`; the rows cut (the later days' exports)."""
    path = landing / "erp" / "movements.csv"
    movements = pl.read_csv(path, infer_schema=False)  # every value as the text written
    later = pl.col("movement_date") > str(through)
    movements.filter(~later).write_csv(path)
    return movements.filter(later)


def run_cycle(
    materials: int, sites: int, years: int, workdir: Path, next_day: bool = False, next_backtest: bool = False
) -> list[CycleTiming]:
    """Generate a business of `materials` materials in `workdir` and time one daily cycle on it (two with
    `next_day`: its last backtest day, then the next day; three with `next_backtest`: a cold first backtest
    a backtest period earlier, then those two)."""
    try:
        settings = scratch_stack(workdir, materials, sites, years)
        started = time.monotonic()
        ensure_sample(settings, force=True)
        sample_seconds = round(time.monotonic() - started, 1)
        partition = cycle_partition(settings)
        if not (next_day or next_backtest):
            return [_time_job(materials, sites, years, partition, sample_seconds, workdir, settings)]
        every_days = load_settings(settings).backtest_every_days
        backtest_day = backtest_through(date.fromisoformat(partition) - timedelta(days=1), every_days)
        days = [(backtest_day, "backtest day"), (backtest_day + timedelta(days=1), "next day")]
        if next_backtest:
            days.insert(0, (backtest_day - timedelta(days=every_days), "first backtest (cold)"))
        landing = Path(settings["NOVA_LANDING_DIR"])
        later = hold_back_movements(landing, days[0][0])
        timings: list[CycleTiming] = []
        delivered = days[0][0]
        for day, label in days:
            while delivered < day:  # the days' exports since the last cycle, one file each
                delivered += timedelta(days=1)
                export = landing / "erp" / f"movements_{delivered}.csv"
                later.filter(pl.col("movement_date") == str(delivered)).write_csv(export)
            seconds = sample_seconds if not timings else 0.0
            timings.append(_time_job(materials, sites, years, str(day), seconds, workdir, settings, label))
            if not timings[-1].succeeded or timings[-1].stopped:
                break
        return timings
    finally:
        stop(local_cluster(embedded_settings(workdir)))


def _time_job(
    materials: int,
    sites: int,
    years: int,
    partition: str,
    sample_seconds: float,
    workdir: Path,
    settings: dict[str, str],
    day: str = "",
) -> CycleTiming:
    """Run the daily job for `partition` as `nova run` does, sampling the memory of its process tree."""
    print(
        f"{materials} materials x {sites} sites x {years} years: sample {sample_seconds:.0f} s; "
        f"running {MAIN_JOB} for {partition}{f' ({day})' if day else ''} in {workdir}",
        flush=True,
    )
    timing = CycleTiming(materials, sites, years, partition, sample_seconds, 0.0, False, load_before=_load(), day=day)
    done = threading.Event()
    started = time.monotonic()
    with (workdir / f"cycle-{partition}.log").open("w") as log:
        process = subprocess.Popen(
            job_execute_command(MAIN_JOB, partition),
            cwd=workdir,
            env={**os.environ, **settings},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        watcher = threading.Thread(target=watch_memory, args=(process.pid, timing.memory, done), daemon=True)
        watcher.start()
        try:
            timing.succeeded = process.wait() == 0
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop the run, keep what it finished
            timing.stopped = True
            process.send_signal(signal.SIGINT)  # Dagster marks the run canceled
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    timing.run_seconds = round(time.monotonic() - started, 1)
    done.set()
    watcher.join()
    timing.load_after = _load()
    os.environ.update(settings)
    _event_log_timings(workdir, timing)
    return timing


def _event_log_timings(workdir: Path, timing: CycleTiming) -> None:
    from dagster import DagsterInstance

    from nova_assets.definitions import defs

    with DagsterInstance.from_config(str(workdir)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return
        run_id = runs[0].run_id
        intervals = step_intervals(run_id, instance)
        layers = step_layers(run_id, instance, defs().resolve_asset_graph())
    timing.layer_span_seconds, timing.layer_step_seconds = layer_timings(intervals, layers)
    peak = timing.memory.peak_process_at
    timing.steps_at_memory_peak = sorted(s for s, (start, end) in intervals.items() if start <= peak <= end)
    timing.max_parallel_forecast_steps = max_parallel(
        [interval for step, interval in intervals.items() if layers.get(step) == "forecast"]
    )


def growth_exponent(small: CycleTiming, large: CycleTiming) -> float:
    """b in seconds ~ materials^b between two sizes: 1 is linear."""
    return math.log(large.run_seconds / small.run_seconds) / math.log(large.materials / small.materials)


def table(timings: list[CycleTiming]) -> str:
    """Markdown: one row per size, layer spans in seconds, cost per 1,000 materials, peak memory."""
    head = [
        "materials",
        "cycle s",
        *LAYERS,
        "s per 1,000 materials",
        "peak PSS (tree)",
        "largest process RSS",
        "load before → after",
    ]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for t in timings:
        spans = [
            f"{t.layer_span_seconds.get(layer, 0):.0f} ({t.layer_step_seconds.get(layer, 0):.0f})" for layer in LAYERS
        ]
        status = "" if t.succeeded else " (STOPPED, unfinished)" if t.stopped else " (FAILED)"
        rows.append(
            "| "
            + " | ".join(
                [
                    f"{t.materials:,}{f' ({t.day})' if t.day else ''}",
                    f"{t.run_seconds:.0f}{status}",
                    *spans,
                    f"{t.run_seconds / t.materials * 1000:.0f}" if t.succeeded else "—",
                    f"{t.memory.peak_pss_mib / 1024:.1f} GiB",
                    f"{t.memory.peak_process_rss_mib / 1024:.1f} GiB",
                    f"{t.load_before} → {t.load_after}",
                ]
            )
            + " |"
        )
    for t in timings:
        which = f" ({t.day}, {t.partition})" if t.day else ""
        rows.append(
            f"\n{t.materials:,} materials{which}: at most {t.max_parallel_forecast_steps} forecast steps at once; "
            f"largest process peaked during {', '.join(t.steps_at_memory_peak) or 'no step'}"
        )
    first_cycles = {t.materials: t for t in reversed(timings)}  # each size's first (cold) cycle
    ok = [t for t in first_cycles.values() if t.succeeded][::-1]
    for small, large in itertools.pairwise(ok):
        rows.append(
            f"\n{small.materials:,} → {large.materials:,} materials: cycle time x"
            f"{large.run_seconds / small.run_seconds:.2f} for x{large.materials / small.materials:.0f} "
            f"materials (exponent {growth_exponent(small, large):.2f}; 1 = linear)"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--materials", type=int, nargs="+", default=[200, 1000, 10000])
    parser.add_argument("--sites", type=int, default=12)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument(
        "--output",
        type=Path,
        default=PROJECT_ROOT / "data" / "bench" / "cycle",
        help="timings.json, table.md (rewritten after every size) and each size's cycle log",
    )
    parser.add_argument("--keep", action="store_true", help="keep each size's data folder")
    parser.add_argument(
        "--next-day", action="store_true", help="time a backtest day's cycle and the next day's (backtest kept)"
    )
    parser.add_argument(
        "--next-backtest",
        action="store_true",
        help="time a cold first backtest, the next backtest day a backtest period of exports later, and the day after",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops a size as cleanly as Ctrl-C
    args.output.mkdir(parents=True, exist_ok=True)
    timings = []
    for materials in args.materials:
        workdir = Path(tempfile.mkdtemp(prefix=f"nova-cycle-{materials}-"))
        try:
            timings.extend(run_cycle(materials, args.sites, args.years, workdir, args.next_day, args.next_backtest))
        finally:
            for log in workdir.glob("cycle-*.log"):
                shutil.copy(log, args.output / f"{materials}-{log.name}")
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
        (args.output / "timings.json").write_text(json.dumps([asdict(t) for t in timings], indent=2))
        (args.output / "table.md").write_text(table(timings) + "\n")
        print(table(timings), flush=True)
        if timings[-1].stopped:
            break
    return 0 if all(t.succeeded for t in timings) else 1


if __name__ == "__main__":
    sys.exit(main())
