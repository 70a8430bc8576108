"""The embedded stack: one documented default for every setting, and the services it starts.

Every setting is an environment variable. `embedded_settings()` is the single place where the
embedded defaults are written down; a variable already set in the environment wins. The result
is written to `<project>/.env`, which Dagster loads for `dagster dev` and `dagster job execute`.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from nova_assets.lib.gold.connection import connection_failure, dbt_environment
from nova_assets.lib.sources.erp_build import ErpLimits
from nova_assets.services.postgres_server import LocalCluster, ensure_running

PROJECT_ROOT = Path(__file__).resolve().parents[2]

GOLD_DATABASE = "nova"
DAGSTER_DATABASE = "dagster"

# name -> (default relative to the project root or literal, description). Documented in README.
EMBEDDED_DEFAULTS: dict[str, tuple[str, str]] = {
    "NOVA_DATA_DIR": ("data", "root of all generated data (ignored by git)"),
    "NOVA_LAKE_DIR": ("data/lake", "raw/silver Parquet files and the DuckDB warehouse"),
    "NOVA_LANDING_DIR": ("data/landing", "where ERP exports (and the synthetic sample) are dropped"),
    "NOVA_SNAPSHOT_DIR": ("data/snapshots", "recorded responses of the public APIs, used offline"),
    "NOVA_OFFLINE": ("1", "1: read the recorded snapshots; 0: call the live APIs"),
    "NOVA_PG_PORT": ("55432", "port of the project-local PostgreSQL (ignored with NOVA_POSTGRES_URL)"),
    "NOVA_PG_DIR": ("data/postgres/main", "folder of the project-local PostgreSQL cluster"),
    "NOVA_GOLD_FORECAST_RETENTION_DAYS": (
        "365",
        "days of forecast cycles kept in analytics.forecasts; older monthly partitions are dropped (0: keep all)",
    ),
    "MLFLOW_TRACKING_URI": ("sqlite:///{root}/mlflow/mlflow.db", "MLflow tracking store"),
    "NOVA_MLFLOW_ARTIFACT_ROOT": ("mlflow/artifacts", "MLflow artifact folder (or s3://...)"),
    "NOVA_MLFLOW_UI_URL": ("http://127.0.0.1:5000", "base URL of the MLflow UI, for run links"),
    "NOVA_DAGSTER_STORAGE_DIR": ("data/dagster/storage", "Dagster local artifact storage"),
    "NOVA_DAGSTER_COMPUTE_LOG_DIR": ("data/dagster/logs", "Dagster compute logs"),
    "NOVA_SAMPLE_MATERIALS": ("300", "materials in the synthetic sample business"),
    "NOVA_SAMPLE_SITES": ("12", "sites in the synthetic sample business"),
    "NOVA_SAMPLE_YEARS": ("3", "years of daily history in the synthetic sample"),
    "NOVA_FORECAST_HORIZON": ("30", "forecast horizon in days"),
    "NOVA_EXECUTOR": ("multiprocess", "how the cycle's steps run: multiprocess, or k8s (one pod per step, deploy/)"),
    "NOVA_MATERIAL_GROUPS": ("4", "material groups (hash buckets) each per-series forecast family fans out into"),
    "NOVA_PARTITIONS_START": ("", "first daily partition, YYYY-MM-DD; empty: the first day of the ERP history"),
    # Inventory policy (nova_assets/lib/inventory) and alert delivery (nova_assets/lib/delivery).
    "NOVA_SERVICE_TARGETS": (
        "A=csl:0.98,B=csl:0.95,C=fill_rate:0.95",
        "service target per criticality class: cycle service level (csl) or fill rate",
    ),
    "NOVA_ORDER_RULE": ("eoq", "order-up-to S = s + EOQ (eoq) or s + NOVA_COVER_DAYS of demand (up_to)"),
    "NOVA_ORDER_COST_BRL": ("150", "cost of placing one purchase order line, BRL (EOQ)"),
    "NOVA_HOLDING_COST_RATE": ("0.10", "yearly storage/insurance/obsolescence rate added to the SELIC (EOQ)"),
    "NOVA_COVER_DAYS": ("30", "days of demand ordered under the up_to rule (and without a unit cost)"),
    "NOVA_LEAD_TIME_UNIT": ("calendar", "supplier lead times in calendar days, or business (holidays lengthen)"),
    "NOVA_CONTEXT_MULTIPLIER": ("off", "on: the design's weather/5G multiplier on the project's safety stock"),
    "NOVA_CONTEXT_FACTOR_CAP": ("1.5", "cap of any compounded context multiplier (the design's compound to 2.6)"),
    "NOVA_ALERT_WATCH_DAYS": ("7", "MÉDIO when the reorder point is reached within this many days"),
    "NOVA_POLICY_BACKTEST_LOST_SALES": ("0", "policy backtest: 1 = unmet demand is lost, 0 = backordered"),
    "NOVA_ALERT_ROUTING_FILE": ("{code}/nova_assets/lib/delivery/alert_routing.toml", "who gets which alert (TOML)"),
    "NOVA_DELIVERY_MAX_ATTEMPTS": ("8", "sends of one message before it is marked dead (kept in the log)"),
    "NOVA_OPS_EMAIL": ("", "who is e-mailed when a run fails (comma-separated); empty: Dagster log only"),
    "NOVA_SMTP_HOST": ("", "SMTP server; empty: the e-mail channel is skipped with a note"),
    "NOVA_SMTP_PORT": ("587", "SMTP port"),
    "NOVA_SMTP_SECURITY": ("starttls", "starttls, ssl or none (a local relay)"),
    "NOVA_SMTP_USER": ("", "SMTP login (empty: no AUTH)"),
    "NOVA_SMTP_PASSWORD": ("", "SMTP password"),
    "NOVA_SMTP_FROM": ("", "sender address of the alert e-mails"),
    "NOVA_WHATSAPP_TOKEN": ("", "WhatsApp Business Cloud API access token; empty: channel skipped"),
    "NOVA_WHATSAPP_PHONE_NUMBER_ID": ("", "sender phone-number id of the WhatsApp Business account"),
    "NOVA_WHATSAPP_API_URL": ("https://graph.facebook.com/v21.0", "Graph API base URL"),
    "NOVA_WHATSAPP_TEMPLATE": ("", "approved template name (one body parameter); empty: text messages"),
    # --- ERP import limits (issue 16; erp branch). To move into the typed settings registry at merge. ---
    "NOVA_ERP_MAX_HELD_BACK_SHARE": (
        str(ErpLimits.max_held_back_share),
        "share of an ERP table's rows a rule may hold back (unknown material, date out of range, implausible "
        "value) before its check blocks the table",
    ),
    "NOVA_ERP_REPLACE_GAP_DAYS": (
        str(ErpLimits.replace_gap_days),
        "days without any row that split a movements re-export's replacement window; a date this far from "
        "every other date of its file is held back",
    ),
    "NOVA_ERP_MAX_REPLACED_RATIO": (
        f"{ErpLimits.max_replaced_ratio:g}",
        "a movements file without document numbers may replace at most this many times the rows it brings",
    ),
    "NOVA_ERP_PLAUSIBLE_FACTOR": (
        f"{ErpLimits.plausible_factor:g}",
        "a movement quantity above this many times its material's 99th percentile is held back (0: off)",
    ),
    "NOVA_ERP_PLAUSIBLE_LIMITS": (
        "",
        "plausible ranges per column, e.g. erp_movements.quantity=..50000; erp_sites.latitude=-20..-8 "
        "(empty: the built-in ranges of erp_files.py; =none removes one)",
    ),
    # --- end of the ERP import block ---
}

_PATH_SETTINGS = {
    "NOVA_DATA_DIR",
    "NOVA_LAKE_DIR",
    "NOVA_LANDING_DIR",
    "NOVA_SNAPSHOT_DIR",
    "NOVA_PG_DIR",
    "NOVA_MLFLOW_ARTIFACT_ROOT",
    "NOVA_DAGSTER_STORAGE_DIR",
    "NOVA_DAGSTER_COMPUTE_LOG_DIR",
}


def embedded_settings(
    root: Path = PROJECT_ROOT, overrides: dict[str, str] | None = None, use_environment: bool = True
) -> dict[str, str]:
    """Resolve every setting: explicit overrides, then the environment, then the embedded default."""
    overrides = overrides or {}
    environment = os.environ if use_environment else {}
    settings: dict[str, str] = {}
    for name, (default, _) in EMBEDDED_DEFAULTS.items():
        value = overrides.get(name) or environment.get(name) or default.format(root=root, code=PROJECT_ROOT)
        if name in _PATH_SETTINGS and "://" not in value and not Path(value).is_absolute():
            value = str(root / value)
        settings[name] = value
    return settings


class StackConfigError(RuntimeError):
    """A setting of the stack cannot be used; the message names the variable (never a password)."""


def start_postgres(settings: dict[str, str]) -> dict[str, str]:
    """Return the Postgres URLs, starting the project-local cluster unless NOVA_POSTGRES_URL is set."""
    external = os.environ.get("NOVA_POSTGRES_URL")
    if external:
        check_database(external)
        return {
            "NOVA_POSTGRES_URL": external,
            "NOVA_DAGSTER_PG_URL": dagster_storage_url(os.environ.get("NOVA_DAGSTER_PG_URL", external)),
        }
    cluster = local_cluster(settings)
    ensure_running(cluster, (GOLD_DATABASE, DAGSTER_DATABASE))
    return {
        "NOVA_POSTGRES_URL": cluster.url(GOLD_DATABASE),
        "NOVA_DAGSTER_PG_URL": dagster_storage_url(cluster.url(DAGSTER_DATABASE)),
    }


def check_database(url: str) -> None:
    """Connect once, so a wrong NOVA_POSTGRES_URL fails before the cycle rather than at its gold step."""
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
    return LocalCluster(data_dir=Path(settings["NOVA_PG_DIR"]), port=int(settings["NOVA_PG_PORT"]))


def prepare_tracking_store(settings: dict[str, str]) -> None:
    """Create (migrate) the MLflow store once, before parallel steps would race to do it."""
    from mlflow.tracking import MlflowClient

    from nova_assets.lib.forecasting.tracking import FORECAST_EXPERIMENT, ensure_experiment

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


def write_env_file(values: dict[str, str], path: Path) -> None:
    """Write the resolved settings where Dagster's loader finds them (mode 0600: holds a password)."""
    lines = [f"{key}={value}" for key, value in sorted(values.items())]
    path.write_text(
        "# written by `nova services up`; do not edit, set the variables instead\n" + "\n".join(lines) + "\n"
    )
    path.chmod(0o600)


def bring_up(root: Path = PROJECT_ROOT) -> dict[str, str]:
    """Start what the pipeline needs and return the full environment for Dagster."""
    settings = embedded_settings(root)
    for name in (
        "NOVA_DATA_DIR",
        "NOVA_LAKE_DIR",
        "NOVA_LANDING_DIR",
        "NOVA_DAGSTER_STORAGE_DIR",
        "NOVA_DAGSTER_COMPUTE_LOG_DIR",
        "NOVA_MLFLOW_ARTIFACT_ROOT",
    ):
        if "://" not in settings[name]:
            Path(settings[name]).mkdir(parents=True, exist_ok=True)
    settings.update(start_postgres(settings))
    settings.update(dbt_environment(settings["NOVA_POSTGRES_URL"]))  # NOVA_GOLD_PG_*: dbt_project/gold's profile
    prepare_tracking_store(settings)
    settings["DAGSTER_HOME"] = str(root)
    write_env_file(settings, root / ".env")
    return settings
