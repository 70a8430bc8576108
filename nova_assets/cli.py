"""`nova`: start the embedded stack, run the daily cycle, open the UIs."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from nova_assets.erp_cli import add_erp_commands
from nova_assets.forecast_cli import add_forecast_commands
from nova_assets.inventory_cli import add_inventory_commands
from nova_assets.lib.gold.connection import redact_url
from nova_assets.lib.local_time import today
from nova_assets.lib.sample import SYNTHETIC_MARKER, is_synthetic
from nova_assets.platform_cli import add_platform_commands
from nova_assets.services.local_stack import (
    PROJECT_ROOT,
    StackConfigError,
    bring_up,
    embedded_settings,
    local_cluster,
)
from nova_assets.services.postgres_server import PostgresError, port_is_free, remove, stop
from nova_assets.services.progress import Progress, follow_run
from nova_assets.settings import SettingsError, describe, load_settings

MAIN_JOB = "daily_cycle"


def _dagster_env(settings: dict[str, str]) -> dict[str, str]:
    """The environment of the Dagster processes we start: the settings, and this environment's bin
    first on PATH, where `dagster dev`'s dbt preparation (dagster-dbt) looks for dbt."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {**os.environ, **settings, "PATH": path}


def web_url(settings: dict[str, str]) -> str:
    """Where `nova ui` serves the dashboard and the API (NOVA_WEB_HOST, NOVA_WEB_PORT)."""
    return f"http://{settings['NOVA_WEB_HOST']}:{settings['NOVA_WEB_PORT']}"


def cmd_services(args: argparse.Namespace) -> int:
    settings = embedded_settings()
    if args.action == "down":
        stopped = stop(local_cluster(settings))
        print("PostgreSQL stopped" if stopped else "PostgreSQL was not running")
        return 0
    if args.action == "remove":
        cluster = local_cluster(settings)
        remove(cluster)
        print(f"PostgreSQL stopped and its cluster {cluster.data_dir} removed")
        return 0
    settings = bring_up()
    print(f"PostgreSQL ready (gold database: {redact_url(settings['NOVA_POSTGRES_URL'])})")
    print(f"Settings written to {PROJECT_ROOT / '.env'}")
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    """Every setting, its value (secrets masked) and where it comes from; fails on a bad value."""
    rows = describe(load_settings())
    width = max(len(name) for name, _, _ in rows)
    for name, value, origin in rows:
        print(f"{name:<{width}}  {value}  [{origin}]")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    settings = embedded_settings()
    written = ensure_sample(settings, force=args.force)
    print(
        f"Synthetic sample business in {settings['NOVA_LANDING_DIR']}: {len(written)} files"
        if written
        else "Landing folder already holds ERP files; nothing generated (use --force)"
    )
    return 0


def ensure_sample(settings: dict[str, str], *, force: bool = False) -> dict[str, Path]:
    """Write the synthetic sample business into the landing folder unless real files are there."""
    from nova_assets.lib.sample.erp_generator import generate_sample_business
    from nova_assets.lib.sample.period import sample_period
    from nova_assets.lib.sources.holidays_calendar import build_holidays
    from nova_assets.lib.sources.openmeteo import SNAPSHOT, parse_openmeteo

    landing = Path(settings["NOVA_LANDING_DIR"])
    if not force and any((landing / "erp").glob("*.*")):
        return {}
    snapshot = Path(settings["NOVA_SNAPSHOT_DIR"]) / SNAPSHOT
    weather = parse_openmeteo(snapshot.read_bytes())
    start, end = sample_period(weather["date"].max(), int(settings["NOVA_SAMPLE_YEARS"]))
    holidays = build_holidays(range(start.year, end.year + 1))
    return generate_sample_business(
        landing,
        n_materials=int(settings["NOVA_SAMPLE_MATERIALS"]),
        n_sites=int(settings["NOVA_SAMPLE_SITES"]),
        start=start,
        end=end,
        weather_daily=weather,
        holidays=set(holidays["date"]),
    )


def cycle_partition(settings: dict[str, str]) -> str:
    """The daily partition to run: the synthetic sample's last day, else yesterday in Salvador."""
    landing = Path(settings["NOVA_LANDING_DIR"])
    if is_synthetic(landing):
        import pandas as pd

        movements = pd.read_csv(landing / "erp" / "movements.csv", usecols=["movement_date"])
        return str(movements["movement_date"].max())
    return str(today() - timedelta(days=1))


def job_execute_command(job: str, partition: str, tags: dict[str, str] | None = None) -> list[str]:
    """`dagster job execute` of one daily partition, as `nova run` starts it (bench/cycle_bench.py too)."""
    return [
        sys.executable,
        "-m",
        "dagster",
        "job",
        "execute",
        "-m",
        "nova_assets.definitions",
        "-j",
        job,
        "--tags",
        json.dumps({"dagster/partition": partition, **(tags or {})}),
    ]


def partition_problem(partition: str) -> str | None:
    """Why `partition` is not a daily partition of the cycle, or None: checked before anything starts."""
    try:
        datetime.strptime(partition, "%Y-%m-%d")
    except ValueError:
        return f"--partition {partition!r}: expected a day as YYYY-MM-DD"
    from nova_assets.defs.partitions import daily_partitions

    first, last = daily_partitions.get_first_partition_key(), daily_partitions.get_last_partition_key()
    if first is None or last is None or not first <= partition <= last:
        return (
            f"--partition {partition}: outside the daily partitions {first} .. {last} (the first day of data"
            " to yesterday in Salvador; NOVA_PARTITIONS_START moves the first)"
        )
    return None


def cmd_run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    if args.partition and (problem := partition_problem(args.partition)):
        print(f"nova run: error: {problem}", file=sys.stderr)
        return 2
    settings = bring_up()
    ensure_sample(settings)
    env = _dagster_env(settings)
    partition = args.partition or cycle_partition(settings)
    log_path = Path(settings["NOVA_DATA_DIR"]) / "logs" / f"nova-run-{datetime.now():%Y%m%dT%H%M%S}.log"
    print(f"Running {args.job} for partition {partition}")
    returncode = run_with_progress(args.job, partition, env, log_path, verbose=args.verbose)
    if not args.verbose:
        print(f"Full event log: {log_path}")
    if returncode != 0:
        print(f"\nThe {args.job} run failed (exit {returncode}); see the log above, or `make ui`.")
        return returncode
    from nova_assets.lib.gold.summary import gold_summary

    print("\n" + gold_summary(settings["NOVA_POSTGRES_URL"]))
    from nova_assets.lib.sources.erp_import import published_provenance

    erp = published_provenance(Path(settings["NOVA_LAKE_DIR"]))
    landing = Path(settings["NOVA_LANDING_DIR"])
    marker = f" (see {landing / SYNTHETIC_MARKER})" if is_synthetic(landing) else ""
    print(f"\nWall time: {time.monotonic() - started:.0f} s. Data: {erp.describe()}{marker}.")
    print(
        f"Open the UIs with `make ui`: web app {web_url(settings)}, Dagster http://127.0.0.1:3000,"
        " MLflow http://127.0.0.1:5000"
    )
    return 0


def run_with_progress(job: str, partition: str, env: dict[str, str], log_path: Path, *, verbose: bool = False) -> int:
    """Run the job as `dagster job execute`, its whole output into `log_path` (or the terminal with
    `verbose`); on the terminal the concise view of nova_assets.services.progress. Returns the exit code."""
    from dagster import DagsterInstance

    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**env, "PYTHONUNBUFFERED": "1"}  # the log file gets each line as it is printed
    launch = ("nova/launch", uuid.uuid4().hex)  # finds this run in the instance's event log
    planner = subprocess.Popen(
        [sys.executable, "-m", "nova_assets.services.progress", job, partition],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    progress = Progress(sys.stdout, tty=sys.stdout.isatty())
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            job_execute_command(job, partition, dict([launch])),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=None if verbose else log,
            stderr=None if verbose else subprocess.STDOUT,
        )
    os.environ.update(env)  # the instance's dagster.yaml reads its storage from the environment
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        events = follow_run(instance, launch)
        try:
            while process.poll() is None:
                time.sleep(1.0)
                if planner is not None and planner.poll() is not None:
                    progress.set_plan(_plan_from(planner))
                    planner = None
                _show(progress, next(events), verbose)
        except KeyboardInterrupt:  # Ctrl-C: let Dagster mark the run canceled
            process.send_signal(signal.SIGINT)
            process.wait()
        if planner is not None:  # the run ended first: its steps still need their layers
            planner.wait()
            progress.set_plan(_plan_from(planner))
        _show(progress, next(events), verbose)
    progress.close()
    if not verbose:
        for line in progress.summary():
            print(line)
    return process.returncode


def _show(progress: Progress, events: list, verbose: bool) -> None:
    if verbose:
        return
    for event in events:
        progress.feed(event)
    progress.redraw()


def _plan_from(planner: subprocess.Popen) -> dict[str, str]:
    """The plan helper's answer (its last line of output); empty when it failed: the view counts without totals."""
    output = (planner.stdout.read() if planner.stdout else "").strip().splitlines()
    try:
        return json.loads(output[-1]) if planner.returncode == 0 and output else {}
    except ValueError:
        return {}


def ports_taken(ports: dict[str, tuple[str, int]]) -> list[str]:
    """Which of the servers' (host, port) something already listens on, named for the user."""
    return [f"{name} {host}:{port}" for name, (host, port) in ports.items() if not port_is_free(port, host)]


def cmd_ui(args: argparse.Namespace) -> int:
    web = load_settings()
    taken = ports_taken(
        {
            "the web app (NOVA_WEB_PORT)": (web.web_host, web.web_port),
            "the Dagster UI (--dagster-port)": ("127.0.0.1", args.dagster_port),
            "the MLflow UI (--mlflow-port)": ("127.0.0.1", args.mlflow_port),
        }
    )
    if taken:
        print(
            f"nova ui: error: already in use: {'; '.join(taken)}. Stop what listens there (another `make ui`?)"
            " or choose other ports.",
            file=sys.stderr,
        )
        return 2
    settings = bring_up()
    env = _dagster_env(settings)
    artifact_root = settings["NOVA_MLFLOW_ARTIFACT_ROOT"]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dagster",
                "dev",
                "-w",
                "workspace.yaml",
                "-h",
                "127.0.0.1",
                "-p",
                str(args.dagster_port),
            ],
            cwd=PROJECT_ROOT,
            env=env,
        ),
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--backend-store-uri",
                settings["MLFLOW_TRACKING_URI"],
                "--default-artifact-root",
                artifact_root,
                "--host",
                "127.0.0.1",
                "--port",
                str(args.mlflow_port),
            ],
            cwd=PROJECT_ROOT,
            env=env,
        ),
        subprocess.Popen([sys.executable, "-m", "nova_assets.web.server"], cwd=PROJECT_ROOT, env=env),  # web app
    ]
    print(
        f"Web app: {web_url(settings)}   Dagster UI: http://127.0.0.1:{args.dagster_port}   MLflow UI: http://127.0.0.1:{args.mlflow_port}"
    )
    print("Ctrl-C stops all three.")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops them as cleanly as Ctrl-C
    names = ["the Dagster UI", "the MLflow UI", "the web app"]
    status = 0
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        ended = [f"{n} (exit {p.returncode})" for n, p in zip(names, processes, strict=True) if p.poll() is not None]
        print(f"nova ui: error: {', '.join(ended)} stopped by itself; stopping the others", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nova", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    services = sub.add_parser("services", help="start or stop the project-local PostgreSQL")
    services.add_argument("action", choices=["up", "down", "remove"], help="remove: stop and delete the cluster")
    services.set_defaults(func=cmd_services)

    settings = sub.add_parser("settings", help="print every setting, its value and where it comes from")
    settings.set_defaults(func=cmd_settings)

    sample = sub.add_parser("sample", help="write the synthetic sample business into the landing folder")
    sample.add_argument("--force", action="store_true", help="overwrite existing landing files")
    sample.set_defaults(func=cmd_sample)

    run = sub.add_parser("run", help="start the stack and materialize the daily cycle once")
    run.add_argument("--job", default=MAIN_JOB, help=f"the asset job to run (default {MAIN_JOB}, the whole cycle)")
    run.add_argument("--partition", help="daily partition YYYY-MM-DD (default: the sample's last day, else yesterday)")
    run.add_argument(
        "--verbose", action="store_true", help="print Dagster's whole event log instead of the progress view"
    )
    run.set_defaults(func=cmd_run)

    about_ui = "start the web app (NOVA_WEB_PORT), the Dagster UI and the MLflow UI on 127.0.0.1; Ctrl-C stops all"
    ui = sub.add_parser("ui", help=about_ui, description=about_ui)
    ui.add_argument("--dagster-port", type=int, default=3000, help="the Dagster UI's port (default 3000)")
    ui.add_argument("--mlflow-port", type=int, default=5000, help="the MLflow UI's port (default 5000)")
    ui.set_defaults(func=cmd_ui)

    add_forecast_commands(sub)
    add_inventory_commands(sub)
    add_erp_commands(sub)
    add_platform_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (
        PostgresError,
        StackConfigError,
        SettingsError,
    ) as exc:  # a setting or the local server: say what, no traceback
        print(f"nova: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
