"""Dagster resources: thin, configurable handles on the lake, the sources, Postgres and MLflow."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import psycopg
from pydantic import Field

from nova_assets.lib import lake
from nova_assets.lib.experiments import FORECAST_EXPERIMENT
from nova_assets.lib.gold.connection import connection_failure
from nova_assets.lib.lake_tables import LakeTable
from nova_assets.lib.sample import is_synthetic
from nova_assets.lib.sources.erp_import import published_provenance
from nova_assets.lib.sources.erp_limits import ErpLimits, parse_limits
from nova_assets.lib.sources.erp_store import ErpProvenance
from nova_assets.lib.sources.http_client import DEFAULT_POLICY, HttpPolicy
from nova_assets.lib.sources.public import LiveSettings
from nova_assets.lib.sources.quality import resolve_as_of
from nova_assets.lib.sources.snapshots import RECORDED_ON
from nova_assets.settings import embedded_defaults

_DEFAULTS = embedded_defaults()


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
        return lake.bronze_dir(self.root, *parts)

    def erp_provenance(self) -> ErpProvenance:
        """Whether the ERP tables in the lake are built from the generated sample, real exports or both:
        the MLflow runs of the models fitted on them carry it as `nova.data`, the report and the gold
        layer's data_provenance say when they are SYNTHETIC."""
        return published_provenance(self.root)

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

    def read(
        self, table: LakeTable, columns: list[str] | None = None, filters: lake.RowFilters | None = None
    ) -> pd.DataFrame:
        _check_access(table, write=False)
        return lake.read_table(self.root, table.layer, table.name, columns, filters)

    def read_if_exists(self, table: LakeTable, columns: list[str] | None = None) -> pd.DataFrame | None:
        """The table, or None before its first write."""
        return self.read(table, columns) if self.exists(table) else None

    def columns(self, table: LakeTable) -> list[str]:
        _check_access(table, write=False)
        return lake.table_columns(self.root, table.layer, table.name)

    def rows(self, table: LakeTable) -> int:
        _check_access(table, write=False)
        return lake.table_rows(self.root, table.layer, table.name)

    def scan(self, con: duckdb.DuckDBPyConnection, table: LakeTable) -> duckdb.DuckDBPyRelation:
        """`table` as a lazy DuckDB relation on `con` (see `lake.scan_table`)."""
        _check_access(table, write=False)
        return lake.scan_table(con, self.root, table.layer, table.name)

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

    Bound from the settings registry (nova_assets/settings.py), whose defaults these are; `api_urls`
    points an endpoint of lib.sources.public (by name, e.g. 'bacen_sgs') at another base URL, e.g. a
    mirror or the tests' local server.
    """

    landing_dir: str
    snapshot_dir: str
    offline: bool = _DEFAULTS.offline
    as_of_date: str = ""  # YYYY-MM-DD; empty: today in Salvador live, the snapshots' recording day offline
    weather_source: str = _DEFAULTS.weather_source  # or "inmet" (needs inmet_token)
    inmet_token: str = ""
    inmet_station: str = _DEFAULTS.inmet_station
    inmet_history_dir: str = ""  # yearly INMET ZIPs; empty: <landing_dir>/inmet
    municipal_holidays: str = ""  # "MM-DD Name; MM-DD Name"; empty: Salvador's
    api_urls: dict[str, str] = Field(default_factory=dict)
    http_timeout_s: float = _DEFAULTS.http_timeout_s
    http_attempts: int = _DEFAULTS.http_attempts
    http_backoff_s: float = _DEFAULTS.http_backoff_s
    erp_max_held_back_share: float = _DEFAULTS.erp_max_held_back_share
    erp_replace_gap_days: int = _DEFAULTS.erp_replace_gap_days
    erp_max_replaced_ratio: float = _DEFAULTS.erp_max_replaced_ratio
    erp_plausible_factor: float = _DEFAULTS.erp_plausible_factor
    erp_plausible_limits: str = _DEFAULTS.erp_plausible_limits

    @property
    def erp_limits(self) -> ErpLimits:
        """The ERP import's limits (the NOVA_ERP_* settings)."""
        return ErpLimits(
            max_held_back_share=self.erp_max_held_back_share,
            replace_gap_days=self.erp_replace_gap_days,
            max_replaced_ratio=self.erp_max_replaced_ratio,
            plausible_factor=self.erp_plausible_factor,
            plausible_limits=parse_limits(self.erp_plausible_limits),
        )

    @property
    def is_offline(self) -> bool:
        return self.offline

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
        return is_synthetic(self.landing_dir)

    @property
    def as_of(self) -> date:
        """The cycle's as-of date (see `quality.resolve_as_of`)."""
        return resolve_as_of(self.as_of_date, self.is_offline, RECORDED_ON)

    def live_settings(self) -> LiveSettings:
        """The live connectors' settings; the backoff cap scales with the first wait (default 1 s -> 30 s)."""
        backoff = self.http_backoff_s
        policy = HttpPolicy(
            timeout_s=self.http_timeout_s,
            attempts=self.http_attempts,
            backoff_initial_s=backoff,
            backoff_max_s=DEFAULT_POLICY.backoff_max_s * backoff / DEFAULT_POLICY.backoff_initial_s,
        )
        return LiveSettings(
            as_of=self.as_of,
            policy=policy,
            urls=dict(self.api_urls),
            weather_source=self.weather_source.strip().lower(),
            inmet_token=self.inmet_token.strip(),
            inmet_station=self.inmet_station,
        )


CONNECT_TIMEOUT_S = 10  # a server that does not answer fails the step instead of hanging it


class PostgresResource(dg.ConfigurableResource):
    """The gold layer database."""

    url: str

    def connect(self) -> psycopg.Connection:
        """Connect, or fail with a message that names the setting and the server (never the password)."""
        if not self.url:
            raise psycopg.OperationalError(
                "NOVA_POSTGRES_URL is not set: start the stack with `nova services up` (or `make run`), "
                "or set it to a server of your own"
            )
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

    horizon_days: int = _DEFAULTS.forecast_horizon
    backtest_every_days: int = _DEFAULTS.backtest_every_days

    @property
    def horizon(self) -> int:
        return self.horizon_days
