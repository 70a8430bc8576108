"""Helpers of the asset-level ingest tests: run raw assets in process on a temporary lake, read what they said."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from nova_assets.lib import lake
from nova_assets.resources import LakeResource, SourcesResource


def materialize(
    assets: Sequence[dg.AssetsDefinition],
    sources: SourcesResource,
    lake_dir: str,
    partition: str | tuple[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """One in-process run (of a daily partition, or of a first..last range as one backfill run);
    failures are returned, not raised, so tests can check what was kept."""
    ranged = isinstance(partition, tuple)
    return dg.materialize(
        assets,
        resources={"sources": sources, "lake": LakeResource(lake_dir=lake_dir)},
        raise_on_error=False,
        partition_key=None if ranged else partition,
        tags={"dagster/asset_partition_range_start": partition[0], "dagster/asset_partition_range_end": partition[1]}
        if ranged
        else None,
    )


def checks(result: dg.ExecuteInProcessResult, table: str) -> dict[str, dg.AssetCheckEvaluation]:
    """The check evaluations of raw/<table>, by check name."""
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == dg.AssetKey(["raw", table])}


def failed_checks(result: dg.ExecuteInProcessResult, table: str) -> dict[str, str]:
    return {name: e.description or "" for name, e in checks(result, table).items() if not e.passed}


def metadata(result: dg.ExecuteInProcessResult, *key: str) -> dict[str, Any]:
    """Metadata values of the asset's materialization in this run."""
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(list(key))]
    return {name: value.value for name, value in event.materialization.metadata.items()}


def read(lake_dir: str, layer: str, table: str) -> pd.DataFrame:
    return lake.read_table(Path(lake_dir), layer, table)


@dataclass
class ErpLakehouse:
    """A landing folder and a lake; `run` materializes every ERP asset on them."""

    root: Path
    as_of: str = "2025-11-11"

    @property
    def landing(self) -> Path:
        return self.root / "landing" / "erp"

    @property
    def lake_dir(self) -> str:
        return str(self.root / "lake")

    def drop(self, name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
        path = self.landing / name
        path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
        return path

    def sources(self, as_of: str | None = None, **settings: object) -> SourcesResource:
        from nova_assets.lib.sources.snapshots import SNAPSHOT_DIR

        return SourcesResource(
            landing_dir=str(self.root / "landing"),
            snapshot_dir=str(SNAPSHOT_DIR),
            as_of_date=as_of or self.as_of,
            **settings,
        )

    def run(self, as_of: str | None = None, **settings: object) -> dg.ExecuteInProcessResult:
        from nova_assets.defs.ingest.erp import erp_tables

        return materialize([erp_tables], self.sources(as_of, **settings), self.lake_dir)

    def raw(self, table: str) -> pd.DataFrame:
        return read(self.lake_dir, "raw", table)

    def quarantine(self) -> pd.DataFrame:
        return read(self.lake_dir, "quarantine", "erp_rows")
