"""The dbt project handle shared by the dbt assets and the dbt CLI resource."""

import os
import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
# what the manifest is parsed from (dbt_project/gold/ is a separate dbt project)
_DBT_SOURCES = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
_DBT_FILES = ("dbt_project.yml", "profiles.yml")

# dagster-dbt runs `dbt` from PATH: make it the one installed beside this interpreter, so the
# pipeline works from `.venv/bin/...` without an activated environment. DBT_EXECUTABLE is that
# dbt by path, for a DbtCliResource(dbt_executable=...) that must not depend on PATH.
_interpreter_bin = str(Path(sys.executable).parent)
DBT_EXECUTABLE = str(Path(_interpreter_bin) / "dbt") if (Path(_interpreter_bin) / "dbt").exists() else "dbt"
if _interpreter_bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _interpreter_bin + os.pathsep + os.environ.get("PATH", "")


def manifest_is_stale(project_dir: Path, manifest_path: Path) -> bool:
    """True when the manifest is missing or older than a file of the dbt project."""
    if not manifest_path.exists():
        return True
    built = manifest_path.stat().st_mtime
    files = [project_dir / name for name in _DBT_FILES]
    for folder in _DBT_SOURCES:
        if (project_dir / folder).is_dir():
            files += [p for p in (project_dir / folder).rglob("*") if p.suffix in {".sql", ".yml", ".yaml", ".md"}]
    return any(p.exists() and p.stat().st_mtime > built for p in files)


def prepare_manifest(project: DbtProject) -> None:
    """`dbt parse` into the project's target folder. Parsing renders NOVA_LAKE_DIR (profile and
    source paths) but reads nothing there; when it is unset the embedded default is used for the
    parse only (dbt re-renders it at run time)."""
    unset = "NOVA_LAKE_DIR" not in os.environ
    if unset:
        os.environ["NOVA_LAKE_DIR"] = str(DBT_PROJECT_DIR.parent / "data" / "lake")
    try:
        project.preparer.prepare(project)
    finally:
        if unset:
            os.environ.pop("NOVA_LAKE_DIR", None)


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# A fresh clone has no manifest yet, and a pulled change to the models makes it stale: parse
# again so the asset graph matches the models (the target/ folder is not in git).
if manifest_is_stale(DBT_PROJECT_DIR, dbt_project.manifest_path):
    prepare_manifest(dbt_project)
