"""Idempotent, atomic loads into the gold layer.

A cycle's rows replace the previous rows of the same cycle in one transaction, so a reader sees
either the old cycle or the new one, never half of it, and re-runs never duplicate rows.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import psycopg
from psycopg import sql


def _qualified(table: str) -> sql.Composed:
    schema, name = table.split(".", 1)
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def _copy_rows(conn: psycopg.Connection, target: sql.Composable, frame: pd.DataFrame) -> None:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    records = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
    with conn.cursor() as cur, cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(target, columns)) as copy:
        for record in records:
            copy.write_row(record)


def replace_cycle(conn: psycopg.Connection, table: str, cycle_date: date, frame: pd.DataFrame) -> int:
    """Replace every row of `cycle_date` in `table` with `frame`, atomically."""
    with conn.transaction():
        conn.execute(sql.SQL("DELETE FROM {} WHERE cycle_date = %s").format(_qualified(table)), (cycle_date,))
        _copy_rows(conn, _qualified(table), frame.assign(cycle_date=cycle_date))
    return len(frame)


def upsert(conn: psycopg.Connection, table: str, frame: pd.DataFrame, keys: list[str]) -> int:
    """Insert or update reference rows by key (materials, sites, suppliers), atomically."""
    stage = sql.Identifier(f"stage_{table.replace('.', '_')}")
    columns = list(frame.columns)
    updates = [c for c in columns if c not in keys]
    statement = sql.SQL(
        "INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT ({keys}) DO UPDATE SET {sets}"
    ).format(
        target=_qualified(table),
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        stage=stage,
        keys=sql.SQL(", ").join(map(sql.Identifier, keys)),
        sets=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updates),
    )
    with conn.transaction():
        conn.execute(
            sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(stage, _qualified(table))
        )
        _copy_rows(conn, stage, frame)
        conn.execute(statement)
    return len(frame)


def record_load(conn: psycopg.Connection, cycle_date: date, table: str, run_id: str, rows: int) -> None:
    with conn.transaction():
        conn.execute(
            "INSERT INTO support.pipeline_runs (cycle_date, table_name, dagster_run_id, rows_loaded)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (cycle_date, table_name, dagster_run_id)"
            " DO UPDATE SET rows_loaded = EXCLUDED.rows_loaded, loaded_at = now()",
            (cycle_date, table, run_id, rows),
        )
