"""Dagster resources: thin, configurable handles on the lake, the sources, Postgres and MLflow."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg

from nova_assets.lib import lake
from nova_assets.lib.forecasting.tracking import FORECAST_EXPERIMENT
from nova_assets.lib.gold.connection import connection_failure
from nova_assets.lib.lake_tables import LakeTable
from nova_assets.lib.sources import bacen_ptax, bacen_sgs, ibge_sidra, inmet, openmeteo
from nova_assets.lib.sources.erp_build import ErpLimits
from nova_assets.lib.sources.http_client import DEFAULT_POLICY, HttpPolicy
from nova_assets.lib.sources.public import LiveSettings
from nova_assets.lib.sources.quality import resolve_as_of
from nova_assets.lib.sources.snapshots import RECORDED_ON


class UndeclaredLakeAccess(RuntimeError):
    """An asset read a lake table its declared dependencies do not include, or wrote one it does not own."""


class LakeResource(dg.ConfigurableResource):
    """The Parquet lake and the DuckDB warehouse folder: reads and writes of the declared tables only.

    Inside a run, a read of a table written by an asset that is not a dependency of the running asset
    fails (UndeclaredLakeAccess), and so does a write of another asset's table: an asset's `deps`
    (`lake_deps`) and what it reads cannot drift apart. Outside a run (a CLI, a test calling a
    function) nothing is checked.
    """

    lake_dir: str

    @property
    def root(self) -> Path:
        return Path(self.lake_dir)

    def bronze(self, *parts: str) -> Path:
        """The folder of a bronze store (landed files and answers kept as received, owned by their store)."""
        return self.root.joinpath("bronze", *parts)

    def path(self, table: LakeTable) -> Path:
        """Where `table` lives; for files other than tables (the PDF report), which their writer creates."""
        return self.root / table.path

    def publish_file(self, table: LakeTable, built: Path) -> Path:
        """Move a finished Parquet file into place as `table` (a table written out of core: the ERP import)."""
        _check_access(table, write=True)
        return lake.publish_file(self.root, table.layer, table.name, built)

    def exists(self, table: LakeTable) -> bool:
        _check_access(table, write=False)
        return self.path(table).exists()

    def read(self, table: LakeTable, columns: list[str] | None = None) -> pd.DataFrame:
        _check_access(table, write=False)
        return lake.read_table(self.root, table.layer, table.name, columns)

    def read_if_exists(self, table: LakeTable, columns: list[str] | None = None) -> pd.DataFrame | None:
        """The table, or None before its first write."""
        return self.read(table, columns) if self.exists(table) else None

    def columns(self, table: LakeTable) -> list[str]:
        _check_access(table, write=False)
        return lake.table_columns(self.root, table.layer, table.name)

    def write(self, table: LakeTable, frame: pd.DataFrame) -> Path:
        _check_access(table, write=True)
        missing = [column for column in table.columns if column not in frame.columns]
        if missing:
            raise ValueError(f"lake table {table} written without its declared column(s) {missing}")
        return lake.write_table(self.root, table.layer, table.name, frame)

    def write_json(self, table: LakeTable, value: object) -> Path:
        _check_access(table, write=True)
        return lake.write_json(self.root, table.layer, table.name, value)

    def read_json(self, table: LakeTable) -> object:
        _check_access(table, write=False)
        return lake.read_json(self.root, table.layer, table.name)


def lake_deps(*tables: LakeTable) -> list[dg.AssetKey]:
    """The asset keys of the writers of `tables`: an asset's `deps` for what it reads from the lake."""
    return list(dict.fromkeys(dg.AssetKey(list(table.asset)) for table in tables))


def _check_access(table: LakeTable, *, write: bool) -> None:
    step = _running_assets()
    if step is None:
        return
    own, deps = step
    writer = dg.AssetKey(list(table.asset))
    if write and writer not in own:
        raise UndeclaredLakeAccess(
            f"{_names(own)} wrote lake table {table}, which is declared as written by {writer.to_user_string()}"
            " (nova_assets/lib/lake_tables.py)"
        )
    if not write and writer not in own | deps:
        raise UndeclaredLakeAccess(
            f"{_names(own)} read lake table {table} (written by {writer.to_user_string()}) without a dependency on"
            f" it: add lake_deps({table.layer}/{table.name}'s declaration) to the asset's deps"
        )


def _running_assets() -> tuple[set[dg.AssetKey], set[dg.AssetKey]] | None:
    """The keys of the asset definition the current step computes and all their dependencies, or None
    outside an asset step (no run, an op without assets, a function invoked directly)."""
    try:
        context = dg.OpExecutionContext.get()
        if not context.has_assets_def:
            return None
        assets_def = context.assets_def
    except dg.DagsterError:
        return None
    own = set(assets_def.keys)
    deps = {dep for key in own for dep in assets_def.asset_deps.get(key, ())}
    return own, deps


def _names(keys: set[dg.AssetKey]) -> str:
    return ", ".join(sorted(key.to_user_string() for key in keys))


class SourcesResource(dg.ConfigurableResource):
    """Where the raw sources come from: the landing folder, the recorded snapshots or the live APIs.

    The URL fields default to the real APIs; each can be pointed elsewhere by its environment
    variable (SOURCES_OPTIONAL_ENV), e.g. at a mirror or at the tests' local server.
    """

    landing_dir: str
    snapshot_dir: str
    offline: str = "1"
    as_of_date: str = ""  # YYYY-MM-DD; empty: today in Salvador live, the snapshots' recording day offline
    weather_source: str = "open-meteo"  # or "inmet" (needs inmet_token)
    inmet_token: str = ""
    inmet_station: str = inmet.SALVADOR_STATION
    inmet_history_dir: str = ""  # yearly INMET ZIPs; empty: <landing_dir>/inmet
    municipal_holidays: str = ""  # "MM-DD Name; MM-DD Name"; empty: Salvador's
    bacen_sgs_url: str = bacen_sgs.BASE_URL
    bacen_ptax_url: str = bacen_ptax.BASE_URL
    ibge_sidra_url: str = ibge_sidra.BASE_URL
    openmeteo_url: str = openmeteo.BASE_URL
    inmet_url: str = inmet.BASE_URL
    http_timeout_s: str = str(DEFAULT_POLICY.timeout_s)
    http_attempts: str = str(DEFAULT_POLICY.attempts)
    http_backoff_s: str = str(DEFAULT_POLICY.backoff_initial_s)
    # --- ERP import limits (issue 16; erp branch): NOVA_ERP_* in services.local_stack, moved at merge ---
    erp_max_held_back_share: str = str(ErpLimits.max_held_back_share)
    erp_replace_gap_days: str = str(ErpLimits.replace_gap_days)
    erp_max_replaced_ratio: str = f"{ErpLimits.max_replaced_ratio:g}"
    erp_plausible_factor: str = f"{ErpLimits.plausible_factor:g}"
    erp_plausible_limits: str = ""

    @property
    def erp_limits(self) -> ErpLimits:
        """The ERP import's limits; a bad value fails with the variable, the value and what is accepted."""
        return ErpLimits.from_settings(
            self.erp_max_held_back_share,
            self.erp_replace_gap_days,
            self.erp_max_replaced_ratio,
            self.erp_plausible_factor,
            self.erp_plausible_limits,
        )

    # --- end of the ERP import block ---

    @property
    def is_offline(self) -> bool:
        return self.offline.strip().lower() not in {"0", "false", "no"}

    @property
    def erp_dir(self) -> Path:
        return Path(self.landing_dir) / "erp"

    @property
    def anatel_dir(self) -> Path:
        return Path(self.landing_dir) / "anatel"

    @property
    def inmet_dir(self) -> Path:
        return Path(self.inmet_history_dir) if self.inmet_history_dir.strip() else Path(self.landing_dir) / "inmet"

    @property
    def snapshots(self) -> Path:
        return Path(self.snapshot_dir)

    @property
    def is_synthetic(self) -> bool:
        """The landing folder holds the generated sample (its note is there), so metadata must say so."""
        return (Path(self.landing_dir) / "SYNTHETIC_DATA.txt").exists()

    @property
    def as_of(self) -> date:
        """The cycle's as-of date (see `quality.resolve_as_of`)."""
        return resolve_as_of(self.as_of_date, self.is_offline, RECORDED_ON)

    def live_settings(self) -> LiveSettings:
        """The live connectors' settings; the backoff cap scales with the first wait (default 1 s -> 30 s)."""
        backoff = float(self.http_backoff_s)
        policy = HttpPolicy(
            timeout_s=float(self.http_timeout_s),
            attempts=int(self.http_attempts),
            backoff_initial_s=backoff,
            backoff_max_s=DEFAULT_POLICY.backoff_max_s * backoff / DEFAULT_POLICY.backoff_initial_s,
        )
        return LiveSettings(
            as_of=self.as_of,
            policy=policy,
            bacen_sgs_url=self.bacen_sgs_url,
            bacen_ptax_url=self.bacen_ptax_url,
            ibge_sidra_url=self.ibge_sidra_url,
            openmeteo_url=self.openmeteo_url,
            inmet_url=self.inmet_url,
            weather_source=self.weather_source.strip().lower(),
            inmet_token=self.inmet_token.strip(),
            inmet_station=self.inmet_station,
        )


# SourcesResource field -> environment variable that overrides its default when set (bound with dg.EnvVar)
SOURCES_OPTIONAL_ENV = {
    "as_of_date": "NOVA_AS_OF_DATE",
    "weather_source": "NOVA_WEATHER_SOURCE",
    "inmet_token": "NOVA_INMET_TOKEN",
    "inmet_station": "NOVA_INMET_STATION",
    "inmet_history_dir": "NOVA_INMET_HISTORY_DIR",
    "municipal_holidays": "NOVA_MUNICIPAL_HOLIDAYS",
    "bacen_sgs_url": "NOVA_BACEN_SGS_URL",
    "bacen_ptax_url": "NOVA_BACEN_PTAX_URL",
    "ibge_sidra_url": "NOVA_IBGE_SIDRA_URL",
    "openmeteo_url": "NOVA_OPENMETEO_URL",
    "inmet_url": "NOVA_INMET_URL",
    "http_timeout_s": "NOVA_HTTP_TIMEOUT_S",
    "http_attempts": "NOVA_HTTP_ATTEMPTS",
    "http_backoff_s": "NOVA_HTTP_BACKOFF_S",
    # ERP import limits (erp branch)
    "erp_max_held_back_share": "NOVA_ERP_MAX_HELD_BACK_SHARE",
    "erp_replace_gap_days": "NOVA_ERP_REPLACE_GAP_DAYS",
    "erp_max_replaced_ratio": "NOVA_ERP_MAX_REPLACED_RATIO",
    "erp_plausible_factor": "NOVA_ERP_PLAUSIBLE_FACTOR",
    "erp_plausible_limits": "NOVA_ERP_PLAUSIBLE_LIMITS",
}


CONNECT_TIMEOUT_S = 10  # a server that does not answer fails the step instead of hanging it


class PostgresResource(dg.ConfigurableResource):
    """The gold layer database."""

    url: str

    def connect(self) -> psycopg.Connection:
        """Connect, or fail with a message that names the setting and the server (never the password)."""
        try:
            return psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.OperationalError as exc:
            message = connection_failure("NOVA_POSTGRES_URL", self.url, exc)
            raise psycopg.OperationalError(f"cannot connect to the gold database {message}") from exc


class MlflowResource(dg.ConfigurableResource):
    """MLflow tracking store; the UI URL is used to link runs from asset metadata."""

    tracking_uri: str
    artifact_root: str
    ui_url: str
    experiment: str = FORECAST_EXPERIMENT

    def run_url(self, experiment_id: str, run_id: str) -> str:
        return f"{self.ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


class CycleConfig(dg.ConfigurableResource):
    """Settings of one daily cycle."""

    horizon_days: str = "30"
    stale_after_days: int = 3

    @property
    def horizon(self) -> int:
        return int(self.horizon_days)
