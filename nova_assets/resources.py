"""Dagster resources: thin, configurable handles on the lake, the sources, Postgres and MLflow."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg
from pydantic import Field

from nova_assets.lib import lake
from nova_assets.lib.forecasting.tracking import FORECAST_EXPERIMENT
from nova_assets.lib.gold.connection import connection_failure
from nova_assets.lib.sources.http_client import DEFAULT_POLICY, HttpPolicy
from nova_assets.lib.sources.public import LiveSettings
from nova_assets.lib.sources.quality import resolve_as_of
from nova_assets.lib.sources.snapshots import RECORDED_ON
from nova_assets.settings import embedded_defaults

_DEFAULTS = embedded_defaults()


class LakeResource(dg.ConfigurableResource):
    """The Parquet lake and the DuckDB warehouse folder."""

    lake_dir: str

    @property
    def root(self) -> Path:
        return Path(self.lake_dir)

    def write(self, layer: str, table: str, frame: pd.DataFrame) -> Path:
        return lake.write_table(self.root, layer, table, frame)

    def read(self, layer: str, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        return lake.read_table(self.root, layer, table, columns)

    def columns(self, layer: str, table: str) -> list[str]:
        return lake.table_columns(self.root, layer, table)

    def write_json(self, layer: str, name: str, value: object) -> Path:
        return lake.write_json(self.root, layer, name, value)

    def read_json(self, layer: str, name: str) -> object:
        return lake.read_json(self.root, layer, name)


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
        return (Path(self.landing_dir) / "SYNTHETIC_DATA.txt").exists()

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
    stale_after_days: int = 3

    @property
    def horizon(self) -> int:
        return self.horizon_days
