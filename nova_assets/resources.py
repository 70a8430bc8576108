"""Dagster resources: thin, configurable handles on the lake, the sources, Postgres and MLflow."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg

from nova_assets.lib import lake
from nova_assets.lib.forecasting.tracking import FORECAST_EXPERIMENT


class LakeResource(dg.ConfigurableResource):
    """The Parquet lake and the DuckDB warehouse folder."""

    lake_dir: str

    @property
    def root(self) -> Path:
        return Path(self.lake_dir)

    def write(self, layer: str, table: str, frame: pd.DataFrame) -> Path:
        return lake.write_table(self.root, layer, table, frame)

    def read(self, layer: str, table: str) -> pd.DataFrame:
        return lake.read_table(self.root, layer, table)


class SourcesResource(dg.ConfigurableResource):
    """Where the raw sources come from: the ERP landing folder, API snapshots or the live APIs."""

    landing_dir: str
    snapshot_dir: str
    offline: str = "1"

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
    def snapshots(self) -> Path:
        return Path(self.snapshot_dir)


class PostgresResource(dg.ConfigurableResource):
    """The gold layer database."""

    url: str

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url)


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
