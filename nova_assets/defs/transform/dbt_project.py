"""The dbt project handle shared by the dbt assets and the dbt CLI resource."""

import os
import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

# dagster-dbt runs `dbt` from PATH: make it the one installed beside this interpreter, so the
# pipeline works from `.venv/bin/...` without an activated environment.
_interpreter_bin = str(Path(sys.executable).parent)
if _interpreter_bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _interpreter_bin + os.pathsep + os.environ.get("PATH", "")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# A fresh clone has no manifest yet: parse once so the asset graph can be built.
if not dbt_project.manifest_path.exists():
    dbt_project.preparer.prepare(dbt_project)
