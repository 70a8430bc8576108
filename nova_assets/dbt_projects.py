"""The two dbt projects, siblings under dbt_project/: the feature store on DuckDB (features/) and
the gold marts on Postgres (gold/), and the dbt that runs them.

Their manifests are dagster-dbt's business: under `dagster dev` (`make ui`) each project is parsed
again when the code location loads (`prepare_if_dev`); everywhere else the manifests are prepared
ahead of time by `dagster-dbt project prepare-and-package --file nova_assets/dbt_projects.py`
(the Makefile does it when a dbt file changes, the Dockerfile when the image is built).
"""

import shutil
import sys
from functools import cached_property
from importlib.metadata import version
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

DBT_ROOT = Path(__file__).resolve().parents[1] / "dbt_project"
# the dbt installed beside this interpreter, so a run from .venv/bin without an activated
# environment (or PATH) uses the project's pinned dbt
DBT_EXECUTABLE = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"

features_project = DbtProject(project_dir=DBT_ROOT / "features", profiles_dir=DBT_ROOT / "features")
gold_project = DbtProject(project_dir=DBT_ROOT / "gold", profiles_dir=DBT_ROOT / "gold")

features_project.prepare_if_dev()
gold_project.prepare_if_dev()


class ProjectDbtResource(DbtCliResource):
    """dagster-dbt's resource running DBT_EXECUTABLE, the dbt of this environment: its version is the
    installed dbt-core's, so dagster-dbt does not start `dbt --version` (about 4 s of dbt's imports)
    before every dbt step to learn it."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))


def dbt_resource(project: DbtProject) -> DbtCliResource:
    """The resource that runs `project`'s dbt commands."""
    return ProjectDbtResource(project_dir=project, dbt_executable=DBT_EXECUTABLE)


# dagster-dbt gives every invocation a target folder of its own (`target/<op>-<run>-<id>`, ~3-11 MB): the
# last few stay for reading a failed run's dbt artifacts, not one per cycle for ever
RUN_TARGETS_KEPT = 5


def prune_run_targets(latest: Path, keep: int = RUN_TARGETS_KEPT) -> None:
    """Remove all but the `keep` newest invocation folders beside `latest` of the same op (its prefix)."""
    op = latest.name.rsplit("-", 2)[0]
    folders = sorted(
        (p for p in latest.parent.glob(f"{op}-*-*") if p.is_dir()), key=lambda p: (p.stat().st_mtime, p.name)
    )
    for folder in folders[:-keep]:
        if folder != latest:
            shutil.rmtree(folder, ignore_errors=True)
