"""The embedded stack: the services `nova` starts (PostgreSQL, the MLflow store) and the settings it hands on.

The settings themselves, with their embedded defaults, are registered in `nova_assets.settings`; a
variable already set in the environment wins. `bring_up` resolves them, starts what is needed and
writes the result to `<project>/.env` for a `dagster` command run from the project root, in a form
where the environment still wins (`write_env_file`).
"""

from __future__ import annotations

import os
from pathlib import Path

from nova_assets.lib.gold.connection import connection_failure, dbt_environment
from nova_assets.services.postgres_server import LocalCluster, ensure_running, resolve_port
from nova_assets.settings import PROJECT_ROOT, load_settings

GOLD_DATABASE = "nova"
DAGSTER_DATABASE = "dagster"
# created by `bring_up` when they are folders (not s3://...)
DATA_FOLDERS = (
    "NOVA_DATA_DIR",
    "NOVA_LAKE_DIR",
    "NOVA_LANDING_DIR",
    "NOVA_DAGSTER_STORAGE_DIR",
    "NOVA_DAGSTER_COMPUTE_LOG_DIR",
    "NOVA_MLFLOW_ARTIFACT_ROOT",
)


def embedded_settings(
    root: Path = PROJECT_ROOT, overrides: dict[str, str] | None = None, use_environment: bool = True
) -> dict[str, str]:
    """Every setting as text: explicit overrides, then the environment, then the embedded default.

    Raises nova_assets.settings.SettingsError naming every variable whose value does not parse."""
    environment = os.environ if use_environment else {}
    return load_settings(environment, root=root, overrides=overrides).environment()


class StackConfigError(RuntimeError):
    """A setting of the stack cannot be used; the message names the variable (never a password)."""


def start_postgres(settings: dict[str, str]) -> dict[str, str]:
    """Return the Postgres URLs, starting the project-local cluster unless NOVA_POSTGRES_URL is set."""
    external = settings["NOVA_POSTGRES_URL"]
    if external:
        check_database(external)
        return {
            "NOVA_POSTGRES_URL": external,
            "NOVA_DAGSTER_PG_URL": dagster_storage_url(settings["NOVA_DAGSTER_PG_URL"] or external),
        }
    cluster = local_cluster(settings)
    ensure_running(cluster, (GOLD_DATABASE, DAGSTER_DATABASE))
    return {
        "NOVA_POSTGRES_URL": cluster.url(GOLD_DATABASE),
        "NOVA_DAGSTER_PG_URL": dagster_storage_url(cluster.url(DAGSTER_DATABASE)),
        "NOVA_PG_PORT": str(cluster.port),
    }


def check_database(url: str) -> None:
    """Connect once, so a wrong NOVA_POSTGRES_URL fails before the cycle rather than at its gold step."""
    import psycopg  # here, not at the top: every `nova` command imports this module

    try:
        dbt_environment(url)  # a postgresql:// URL
        with psycopg.connect(url, connect_timeout=10):
            pass
    except (ValueError, psycopg.Error) as exc:
        raise StackConfigError(connection_failure("NOVA_POSTGRES_URL", url, exc)) from exc


def dagster_storage_url(url: str) -> str:
    """dagster-postgres speaks psycopg2, but SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}" if scheme in {"postgresql", "postgres"} else url


def local_cluster(settings: dict[str, str]) -> LocalCluster:
    """The project-local cluster: NOVA_PG_DIR, on NOVA_PG_PORT or the port it remembers (`resolve_port`)."""
    data_dir = Path(settings["NOVA_PG_DIR"])
    return LocalCluster(data_dir=data_dir, port=resolve_port(data_dir, settings["NOVA_PG_PORT"]))


def prepare_tracking_store(settings: dict[str, str]) -> None:
    """Create (migrate) the MLflow store once, before parallel steps would race to do it."""
    from mlflow.tracking import MlflowClient

    from nova_assets.lib.experiments import FORECAST_EXPERIMENT
    from nova_assets.lib.forecasting.tracking import ensure_experiment

    uri = settings["MLFLOW_TRACKING_URI"]
    try:
        if uri.startswith("sqlite:///"):
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        ensure_experiment(MlflowClient(tracking_uri=uri), FORECAST_EXPERIMENT, settings["NOVA_MLFLOW_ARTIFACT_ROOT"])
    except Exception as exc:  # MLflow raises its own types per store; all mean the same to the user here
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StackConfigError(
            "the MLflow tracking store cannot be used: " + connection_failure("MLFLOW_TRACKING_URI", uri, first_line)
        ) from exc


def env_file_line(name: str, value: str) -> str:
    """`NAME="${NAME:-value}"`: Dagster loads `.env` over the environment, but python-dotenv expands
    `${NAME:-value}` from the environment first, so a variable set there wins. A value holding `}`
    cannot be written so; it is written as it is, and there `.env` wins (said in docs/configuration.md)."""
    if "}" in value:
        return f"{name}='{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}="${{{name}:-{escaped}}}"'


def write_env_file(values: dict[str, str], path: Path) -> None:
    """Write the resolved settings where Dagster's loader finds them (mode 0600: holds a password)."""
    lines = [env_file_line(key, value) for key, value in sorted(values.items())]
    path.write_text(
        "# written by `nova services up`; do not edit, set the variables instead (a variable set in the\n"
        "# environment wins over its line here: see docs/configuration.md)\n" + "\n".join(lines) + "\n"
    )
    path.chmod(0o600)


def bring_up(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """Start what the pipeline needs and return the full environment for Dagster."""
    settings = embedded_settings(root)
    for name in DATA_FOLDERS:
        if "://" not in settings[name]:
            Path(settings[name]).mkdir(parents=True, exist_ok=True)
    settings.update(start_postgres(settings))
    settings.update(dbt_environment(settings["NOVA_POSTGRES_URL"]))  # NOVA_GOLD_PG_*: dbt_project/gold's profile
    prepare_tracking_store(settings)
    write_env_file(settings, root / ".env")
    return settings
