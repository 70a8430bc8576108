"""Resource bindings: every value comes from the environment (see `nova_assets.services.local_stack`)."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource

from nova_assets.dbt_projects import DBT_EXECUTABLE, features_project
from nova_assets.resources import (
    SOURCES_OPTIONAL_ENV,
    CycleConfig,
    LakeResource,
    MlflowResource,
    PostgresResource,
    SourcesResource,
)


def _set_in_environment(fields: dict[str, str]) -> dict[str, dg.EnvVar]:
    """Bind a field to its variable only when the variable is set, so the field's default applies otherwise."""
    return {field: dg.EnvVar(name) for field, name in fields.items() if os.environ.get(name)}


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "lake": LakeResource(lake_dir=dg.EnvVar("NOVA_LAKE_DIR")),
            "sources": SourcesResource(
                landing_dir=dg.EnvVar("NOVA_LANDING_DIR"),
                snapshot_dir=dg.EnvVar("NOVA_SNAPSHOT_DIR"),
                offline=dg.EnvVar("NOVA_OFFLINE"),
                **_set_in_environment(SOURCES_OPTIONAL_ENV),
            ),
            "gold": PostgresResource(url=dg.EnvVar("NOVA_POSTGRES_URL")),
            "mlflow": MlflowResource(
                tracking_uri=dg.EnvVar("MLFLOW_TRACKING_URI"),
                artifact_root=dg.EnvVar("NOVA_MLFLOW_ARTIFACT_ROOT"),
                ui_url=dg.EnvVar("NOVA_MLFLOW_UI_URL"),
            ),
            "cycle": CycleConfig(horizon_days=dg.EnvVar("NOVA_FORECAST_HORIZON")),
            "dbt": DbtCliResource(project_dir=features_project, dbt_executable=DBT_EXECUTABLE),
        }
    )
