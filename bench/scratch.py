"""A throw-away project-data folder for the benches and drills: its own PostgreSQL on a free port,
lake, landing folder, MLflow store and Dagster instance (the project's dagster.yaml), so nothing
of the project's own `data/` or of the caller's shell settings is touched."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nova_assets.cli import cycle_partition, ensure_sample
from nova_assets.services.local_stack import PROJECT_ROOT, bring_up, embedded_settings, local_cluster
from nova_assets.services.postgres_server import stop
from nova_assets.settings import SETTINGS

# Settings a scratch stack must not inherit from the caller's shell: it would write into their stack.
INHERITED = tuple(SETTINGS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scratch_stack(root: Path, materials: int, sites: int, years: int, horizon: int | None = None) -> dict[str, str]:
    """Start the stack of a scratch root for a sample business of this size; the settings of its runs."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o711)  # as root, PostgreSQL runs as `postgres` and must reach its cluster folder
    for name in INHERITED:
        os.environ.pop(name, None)
    os.environ.update(
        {
            "NOVA_SNAPSHOT_DIR": str(PROJECT_ROOT / "data" / "snapshots"),
            "NOVA_PG_PORT": str(free_port()),
            "NOVA_SAMPLE_MATERIALS": str(materials),
            "NOVA_SAMPLE_SITES": str(sites),
            "NOVA_SAMPLE_YEARS": str(years),
            **({"NOVA_FORECAST_HORIZON": str(horizon)} if horizon else {}),
        }
    )
    shutil.copy(PROJECT_ROOT / "dagster.yaml", root / "dagster.yaml")  # DAGSTER_HOME is the scratch root
    return bring_up(root)


@contextmanager
def drill_stack(root: Path | None, prefix: str, materials: int) -> Iterator[tuple[Path, dict[str, str], str]]:
    """A drill's small business (3 sites, 1 year, horizon 14) on a scratch stack: (root, settings,
    partition to run). Its PostgreSQL is stopped afterwards, and the folder removed if made here."""
    scratch = root or Path(tempfile.mkdtemp(prefix=prefix))
    settings = scratch_stack(scratch, materials, sites=3, years=1, horizon=14)
    try:
        ensure_sample(settings)
        partition = cycle_partition(settings)
        print(f"scratch root {scratch}; partition {partition}; {materials} materials")
        yield scratch, settings, partition
    finally:
        stop(local_cluster(embedded_settings(scratch)))
        if root is None:
            shutil.rmtree(scratch, ignore_errors=True)
