"""Glue between the raw-table checks of `lib.sources.quality` and Dagster asset checks.

Every raw asset declares its checks as check specs and evaluates them on the candidate table
*before* writing it: when a blocking check fails, the last good table stays in the lake, the check
fails with ERROR severity and Dagster stops everything downstream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq

from nova_assets.lib.lake_tables import raw
from nova_assets.lib.sources.quality import (
    BUILT_FROM,
    CHECKS,
    RULES,
    CheckOutcome,
    latest_date,
    quality_score,
    read_built_from,
    write_status,
)
from nova_assets.resources import LakeResource


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def check_specs(table: str) -> list[dg.AssetCheckSpec]:
    """One spec per check that applies to `table`; the contract-breaking ones block downstream assets."""
    return [
        dg.AssetCheckSpec(name, asset=raw_key(table), description=CHECKS[name][0], blocking=CHECKS[name][1])
        for name in RULES[table].check_names()
    ]


def publish(
    context: dg.AssetExecutionContext,
    lake: LakeResource,
    table: str,
    frame: pd.DataFrame | Path,
    outcomes: Sequence[CheckOutcome],
    metadata: Mapping[str, Any],
    *,
    origin: str,
    warning: str | None = None,
    latest: date | None = None,
    built_from: Mapping[str, Any] | None = None,
) -> dg.MaterializeResult:
    """Write `frame` (rows in memory, or a finished Parquet file moved into place) unless a blocking check
    failed; report the checks, the quality score and a status file. `built_from` (what the rows come from)
    is recorded with a written table; a table kept, or re-published as it was (None), keeps its record."""
    blocked = [o.name for o in outcomes if o.blocking and not o.passed]
    freshness = RULES[table].freshness
    if isinstance(frame, Path):
        rows, preview = pq.read_metadata(frame).num_rows, _tail(frame)
    else:
        rows, preview = len(frame), frame.tail(5)
        latest = latest_date(frame, freshness) if freshness else None
    if blocked:
        status = f"NOT WRITTEN: blocking checks failed ({', '.join(blocked)}); the last good table is kept"
        context.log.error(f"raw/{table}: {status}: " + "; ".join(o.description for o in outcomes if not o.passed))
    else:
        if isinstance(frame, Path):
            if frame != lake.path(raw(table)):
                lake.publish_file(raw(table), frame)
        else:
            lake.write(raw(table), frame)
        status = "written"
    score = quality_score(outcomes)
    if blocked or built_from is None:
        built_from = read_built_from(lake.root, table)
    write_status(
        lake.root,
        table,
        {
            **({BUILT_FROM: dict(built_from)} if built_from is not None else {}),
            "table": table,
            "origin": origin,
            "warning": warning,
            "written": not blocked,
            "quality_score": score,
            "latest_date": str(latest) if freshness else None,
            "failed_checks": [o.name for o in outcomes if not o.passed],
            "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    results = check_results(context, table, outcomes)
    full_metadata: dict[str, Any] = {
        "status": status,
        "origin": origin,
        **({"warning": warning} if warning else {}),
        "rows": rows,
        "quality_score": score,
        "quality": dg.MetadataValue.md(_quality_markdown(outcomes, score)),
        **metadata,
    }
    if rows:
        full_metadata["preview"] = dg.MetadataValue.md(preview.to_markdown(index=False))
    return dg.MaterializeResult(asset_key=raw_key(table), metadata=full_metadata, check_results=results)


def check_results(
    context: dg.AssetExecutionContext, table: str, outcomes: Sequence[CheckOutcome]
) -> list[dg.AssetCheckResult]:
    """The outcomes of the checks of `table` that the run selected, as Dagster check results."""
    selected = context.selected_asset_check_keys
    return [
        dg.AssetCheckResult(
            asset_key=raw_key(table),
            check_name=o.name,
            passed=o.passed,
            severity=dg.AssetCheckSeverity.ERROR if o.blocking else dg.AssetCheckSeverity.WARN,
            description=o.description[:1000],
            metadata={"score": o.score, **_jsonable(o.metadata)},
        )
        for o in outcomes
        if dg.AssetCheckKey(raw_key(table), o.name) in selected
    ]


def _tail(path: Path, rows: int = 5) -> pd.DataFrame:
    """The last rows of a Parquet file, reading only its last row group."""
    parquet = pq.ParquetFile(path)
    if not parquet.metadata.num_row_groups:
        return pd.DataFrame()
    last = parquet.read_row_group(parquet.metadata.num_row_groups - 1)
    return last.slice(max(last.num_rows - rows, 0)).to_pandas()


def _quality_markdown(outcomes: Sequence[CheckOutcome], score: float) -> str:
    lines = [
        f"quality score **{score}** = mean of the check scores (share of rows/days/files passing; 1/0 for "
        "schema and fresh)",
        "",
        "| check | passed | score | finding |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {o.name} | {'yes' if o.passed else '**NO**'} | {o.score:.3f} | {o.description[:200].replace('|', '/')} |"
        for o in outcomes
    ]
    return "\n".join(lines)


def _jsonable(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Check metadata as Dagster accepts it: scalars as they are, anything else as JSON."""
    return {
        key: value if isinstance(value, str | int | float | bool) else dg.MetadataValue.json(value)
        for key, value in metadata.items()
        if value is not None
    }
