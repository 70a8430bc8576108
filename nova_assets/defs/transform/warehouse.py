"""When must the incremental dbt models be rebuilt from scratch? Plain checks on the DuckDB warehouse."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import duckdb


@cache
def _load_manifest(path: str, mtime: float) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_manifest(path: Path) -> dict[str, Any]:
    return _load_manifest(str(path), path.stat().st_mtime)


def incremental_models(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The manifest nodes of the incremental models."""
    return [
        node
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model" and node.get("config", {}).get("materialized") == "incremental"
    ]


def full_refresh_reason(warehouse: Path, manifest: Mapping[str, Any]) -> str | None:
    """Why the incremental models need a full refresh, or None when an incremental run is right.

    A full refresh is needed when the warehouse file or an incremental table is missing, a table
    is empty, or its columns differ from the model's documented columns (a feature was added or
    removed). The warehouse is opened read-only; when it cannot be opened (locked by another
    writer) this returns None and dbt's own incremental logic decides (it rebuilds a missing or
    empty table by itself).
    """
    models = incremental_models(manifest)
    if not models:
        return None
    if not warehouse.exists():
        return f"warehouse {warehouse} does not exist yet"
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        for node in models:
            name = node.get("alias") or node["name"]
            schema = node.get("schema") or "main"
            columns = [
                row[0]
                for row in con.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, name],
                ).fetchall()
            ]
            if not columns:
                return f"table {schema}.{name} does not exist"
            documented = [c.lower() for c in node.get("columns", {})]
            if documented and set(documented) != {c.lower() for c in columns}:
                added = sorted(set(documented) - {c.lower() for c in columns})
                removed = sorted({c.lower() for c in columns} - set(documented))
                return f"columns of {schema}.{name} changed (new: {added}, gone: {removed})"
            (rows,) = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
            if rows == 0:
                return f"table {schema}.{name} is empty"
    finally:
        con.close()
    return None


def writer_lock_conflict(warehouse: Path) -> str | None:
    """DuckDB's message when another process holds the warehouse (one writer per file), else None.

    DuckDB refuses a second process with "Could not set lock on file ... Conflicting lock is held
    in ... (PID n)"; dbt would report that only as a failed command. Checked before dbt starts,
    so a second run fails with the reason; under the Dagster daemon the `duckdb` pool makes it wait.
    """
    if not warehouse.exists():
        return None
    try:
        duckdb.connect(str(warehouse)).close()
    except duckdb.IOException as exc:
        if "conflicting lock" in str(exc).lower():
            return str(exc)
    except duckdb.Error:  # e.g. this process has it open with other settings: dbt decides
        pass
    return None
