"""The two dbt projects, siblings under dbt_project/: the feature store on DuckDB (features/) and
the gold marts on Postgres (gold/), and the dbt that runs them.

Their manifests are dagster-dbt's business: under `dagster dev` (`make ui`) each project is parsed
again when the code location loads (`prepare_if_dev`); everywhere else the manifests are prepared
ahead of time by `dagster-dbt project prepare-and-package --file nova_assets/dbt_projects.py`
(the Makefile does it when a dbt file changes, the Dockerfile when the image is built).
"""

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_ROOT = Path(__file__).resolve().parents[1] / "dbt_project"
# the dbt installed beside this interpreter, so a run from .venv/bin without an activated
# environment (or PATH) uses the project's pinned dbt
DBT_EXECUTABLE = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"

features_project = DbtProject(project_dir=DBT_ROOT / "features", profiles_dir=DBT_ROOT / "features")
gold_project = DbtProject(project_dir=DBT_ROOT / "gold", profiles_dir=DBT_ROOT / "gold")

features_project.prepare_if_dev()
gold_project.prepare_if_dev()
