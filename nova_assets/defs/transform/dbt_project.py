"""The dbt project handle shared by the dbt assets and the dbt CLI resource."""

from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# A fresh clone has no manifest yet: parse once so the asset graph can be built.
if not dbt_project.manifest_path.exists():
    dbt_project.preparer.prepare(dbt_project)
