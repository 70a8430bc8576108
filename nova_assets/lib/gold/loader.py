"""Idempotent, atomic loads into the gold layer, through the `staging` schema.

A partitioned target gets the partitions its rows need first, in a short transaction of its own
(lib/gold/partitions.py). Every load lands its rows in `staging.<schema>__<table>` first, then, in the same transaction,
replaces the target rows of its scope (a cycle, a date range) or upserts them by key, and writes
a `support.load_audit` row. A reader sees the old rows or the new ones, never half of them; a
re-run replaces what the previous run wrote, so no number of re-runs duplicates a row. A failed
load rolls back completely and leaves a 'failed' audit row (written after the rollback).

Table and column names are composed as identifiers and values are bound, never concatenated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
import polars as pl
import psycopg
from psycopg import sql

from nova_assets.lib.gold.partitions import attach_partition, create_detached, ensure_partitions_for, new_day_partition

STAGING_SCHEMA = "staging"
LOAD_ID_COLUMN = "_load_id"
COPY_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class Scope:
    """The target rows a load replaces: columns equal to a value and/or within a closed range."""

    equals: Mapping[str, object] = field(default_factory=dict)
    between: Mapping[str, tuple[object, object]] = field(default_factory=dict)

    def where(self) -> tuple[sql.Composable, list[object]]:
        parts: list[sql.Composable] = []
        params: list[object] = []
        for column, value in self.equals.items():
            parts.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
        for column, (low, high) in self.between.items():
            parts.append(sql.SQL("{} BETWEEN %s AND %s").format(sql.Identifier(column)))
            params += [low, high]
        return (sql.SQL(" AND ").join(parts) if parts else sql.SQL("TRUE")), params

    def as_json(self) -> str:
        return json.dumps({"equals": dict(self.equals), "between": dict(self.between)}, default=str)


@dataclass(frozen=True)
class LoadResult:
    table: str
    rows_staged: int
    rows_deleted: int
    rows_written: int


def qualified(table: str) -> sql.Composed:
    """`schema.table` as a quoted identifier pair."""
    schema, name = table.split(".", 1)
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def staging_table(table: str) -> str:
    return f"{STAGING_SCHEMA}.{table.replace('.', '__')}"


def replace_cycle(conn: psycopg.Connection, table: str, cycle_date: date, frame: pd.DataFrame, run_id: str = "") -> int:
    """Replace every row of `cycle_date` in `table` with `frame`, atomically; return the rows written.

    The first load of a cycle into a table partitioned by day (analytics.forecasts) copies the rows into
    a new table and attaches it as the cycle's partition, in one transaction: its indexes are built once
    and its foreign keys checked by one query each, and readers see the cycle appear whole at the commit.
    """
    frame = frame.assign(cycle_date=cycle_date)
    scope = Scope(equals={"cycle_date": cycle_date})
    partitions = new_day_partition(conn, table, cycle_date)
    if partitions is None:
        return replace_rows(conn, table, frame, scope, run_id=run_id).rows_written
    month, day = partitions

    def attach(cur: psycopg.Cursor, stage: sql.Composed, load_id: int, columns: sql.Composable) -> tuple[int, int]:
        create_detached(cur, day, like=month)
        _copy_rows(cur, sql.SQL("{}.{}").format(sql.Identifier(day.schema), sql.Identifier(day.name)), frame)
        attach_partition(cur, month, day)
        return 0, len(frame)

    return _load(conn, table, frame, "replace", scope.as_json(), run_id, attach, staged=False).rows_written


def replace_rows(
    conn: psycopg.Connection, table: str, frame: pd.DataFrame, scope: Scope, run_id: str = ""
) -> LoadResult:
    """Stage `frame`, then delete the target rows in `scope` and insert the staged rows, in one transaction."""

    def swap(cur: psycopg.Cursor, stage: sql.Composed, load_id: int, columns: sql.Composable) -> tuple[int, int]:
        where, params = scope.where()
        cur.execute(sql.SQL("DELETE FROM {} WHERE {}").format(qualified(table), where), params)
        deleted = cur.rowcount
        cur.execute(
            sql.SQL("INSERT INTO {t} ({c}) SELECT {c} FROM {s} WHERE {lid} = %s").format(
                t=qualified(table), c=columns, s=stage, lid=sql.Identifier(LOAD_ID_COLUMN)
            ),
            (load_id,),
        )
        return deleted, cur.rowcount

    return _load(conn, table, frame, "replace", scope.as_json(), run_id, swap)


def upsert(conn: psycopg.Connection, table: str, frame: pd.DataFrame, keys: list[str], run_id: str = "") -> int:
    """Insert or update rows by key (materials, sites, suppliers), atomically; return the rows written."""
    updates = [c for c in frame.columns if c not in keys]

    def swap(cur: psycopg.Cursor, stage: sql.Composed, load_id: int, columns: sql.Composable) -> tuple[int, int]:
        conflict = (
            sql.SQL("DO UPDATE SET {}").format(
                sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updates)
            )
            if updates
            else sql.SQL("DO NOTHING")
        )
        cur.execute(
            sql.SQL("INSERT INTO {t} ({c}) SELECT {c} FROM {s} WHERE {lid} = %s ON CONFLICT ({k}) {u}").format(
                t=qualified(table),
                c=columns,
                s=stage,
                lid=sql.Identifier(LOAD_ID_COLUMN),
                k=sql.SQL(", ").join(map(sql.Identifier, keys)),
                u=conflict,
            ),
            (load_id,),
        )
        return 0, cur.rowcount

    return _load(conn, table, frame, "upsert", json.dumps({"keys": keys}), run_id, swap).rows_written


def upsert_changes(
    conn: psycopg.Connection,
    table: str,
    frame: pd.DataFrame,
    keys: list[str],
    stamp_columns: list[str],
    run_id: str = "",
    then: Callable[[psycopg.Cursor], None] | None = None,
) -> LoadResult:
    """Upsert by key only the rows that are new or differ from the stored row in a column other than the
    `stamp_columns` (which change on every load); a stored row that is the same is not rewritten, and
    rows absent from `frame` stay. `then(cursor)` runs last in the load's transaction.

    When the rows to write outnumber the stored rows (the first load), the table's foreign keys and
    secondary indexes are dropped for the insert and re-created after it, in the same transaction
    (see `_without_keys_and_indexes`); a broken reference still fails the whole load.
    """
    compared = [c for c in frame.columns if c not in keys and c not in stamp_columns]
    updates = [c for c in frame.columns if c not in keys]
    target = qualified(table)

    def swap(cur: psycopg.Cursor, stage: sql.Composed, load_id: int, columns: sql.Composable) -> tuple[int, int]:
        # ON CONFLICT ... WHERE: a stored row that is the same is left as it is (the plan is one index
        # probe per staged row, whatever the table's statistics say about its size)
        changed = sql.SQL("({}) IS DISTINCT FROM ({})").format(
            sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in compared),
            sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in compared),
        )
        statement = sql.SQL(
            "INSERT INTO {t} AS t ({c}) SELECT {c} FROM {s} WHERE {lid} = %s ON CONFLICT ({k}) DO UPDATE SET {u}"
        ).format(
            t=target,
            c=columns,
            s=stage,
            lid=sql.Identifier(LOAD_ID_COLUMN),
            k=sql.SQL(", ").join(map(sql.Identifier, keys)),
            u=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updates),
        )
        if compared:
            statement += sql.SQL(" WHERE ") + changed
        stored = cur.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()[0]
        with _without_keys_and_indexes(cur, table) if len(frame) > stored else nullcontext():
            written = cur.execute(statement, (load_id,)).rowcount
        if then is not None:
            then(cur)
        return 0, written

    scope = json.dumps({"keys": keys, "changed_ignoring": stamp_columns})
    return _load(conn, table, frame, "upsert", scope, run_id, swap)


@contextmanager
def _without_keys_and_indexes(cur: psycopg.Cursor, table: str) -> Iterator[None]:
    """The foreign keys and the indexes other than the primary key of `table` dropped for the block,
    then re-created from their stored definitions (PostgreSQL's advice for a bulk load: each foreign key
    is then checked by one query over all rows instead of a trigger per row, each index built once).

    Run inside the load's transaction: a failure re-creates nothing because nothing was committed, and
    the table is locked (ACCESS EXCLUSIVE) until the commit, so no reader sees it without its keys.
    """
    keys = cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        (table,),
    ).fetchall()
    indexes = cur.execute(
        "SELECT n.nspname, c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index AS i"
        " JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace"
        " WHERE i.indrelid = %s::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid)"
        " ORDER BY 2",
        (table,),
    ).fetchall()
    target = qualified(table)
    for name, _ in keys:
        cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(target, sql.Identifier(name)))
    for schema, name, _ in indexes:
        cur.execute(sql.SQL("DROP INDEX {}.{}").format(sql.Identifier(schema), sql.Identifier(name)))
    yield
    for *_, definition in indexes:  # pg_get_indexdef: a complete CREATE INDEX statement
        cur.execute(definition)
    for name, definition in keys:
        cur.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(target, sql.Identifier(name), sql.SQL(definition))
        )


Swap = Callable[[psycopg.Cursor, sql.Composed, int, sql.Composable], tuple[int, int]]


def _load(
    conn: psycopg.Connection,
    table: str,
    frame: pd.DataFrame,
    mode: str,
    scope_json: str,
    run_id: str,
    swap: Swap,
    staged: bool = True,
) -> LoadResult:
    """Land `frame` in staging (unless `staged` is False: `swap` copies the rows itself, and the staging
    table is left empty), then `swap` in the same transaction, audited."""
    started = datetime.now().astimezone()
    try:
        if staged:
            ensure_partitions_for(conn, table, frame)
        with conn.transaction(), conn.cursor() as cur:
            # One load of a table at a time, even across processes; readers are never blocked.
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"nova_gold_load:{table}",))
            stage = _ensure_staging(cur, table)
            cur.execute(sql.SQL("TRUNCATE {}").format(stage))
            load_id = int(cur.execute("SELECT nextval('support.load_audit_load_id_seq')").fetchone()[0])
            columns = sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
            if staged:
                _copy_rows(cur, stage, frame.assign(**{LOAD_ID_COLUMN: load_id}))
            deleted, written = swap(cur, stage, load_id, columns)
            _audit(
                cur, load_id, table, mode, scope_json, run_id, len(frame), deleted, written, "committed", None, started
            )
    except Exception as exc:
        exc.add_note(f"gold load of {table} rolled back: the table still holds its previous rows; re-run the step")
        if not conn.closed and not conn.broken:
            with conn.transaction(), conn.cursor() as cur:
                _audit(
                    cur,
                    None,
                    table,
                    mode,
                    scope_json,
                    run_id,
                    len(frame),
                    None,
                    None,
                    "failed",
                    f"{type(exc).__name__}: {exc}"[:4000],
                    started,
                )
        raise
    return LoadResult(table, len(frame), deleted, written)


def _ensure_staging(cur: psycopg.Cursor, table: str) -> sql.Composed:
    """`staging.<schema>__<table>`: the target's columns plus the load id, re-created when they drift."""
    stage_name = staging_table(table)
    stage = qualified(stage_name)
    wanted = [*_columns(cur, table), LOAD_ID_COLUMN]
    if _columns(cur, stage_name) != wanted:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage))
        # UNLOGGED: the landing is rebuilt by every load, so it need not survive a crash.
        cur.execute(sql.SQL("CREATE UNLOGGED TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(stage, qualified(table)))
        cur.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN {} bigint NOT NULL").format(stage, sql.Identifier(LOAD_ID_COLUMN))
        )
    return stage


def _columns(cur: psycopg.Cursor, table: str) -> list[str]:
    schema, name = table.split(".", 1)
    rows = cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
        " ORDER BY ordinal_position",
        (schema, name),
    ).fetchall()
    return [r[0] for r in rows]


def _copy_rows(cur: psycopg.Cursor, target: sql.Composable, frame: pd.DataFrame) -> None:
    """COPY as CSV in chunks (an order of magnitude faster than row by row); NULL is an unquoted \\N."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, NULL '\\N')").format(target, columns)
    with cur.copy(statement) as copy:
        for start in range(0, len(frame), COPY_CHUNK_ROWS):
            copy.write(csv_rows(frame.iloc[start : start + COPY_CHUNK_ROWS]))


def csv_rows(frame: pd.DataFrame) -> str:
    """The rows as PostgreSQL reads CSV: no header, NULL (None, NaN, NaT) as \\N, a time zone's offset
    kept. Written by polars: pandas' writer formats value by value in Python."""
    table = pl.DataFrame([_polars_column(frame[name]) for name in frame.columns])
    zoned = [name for name, dtype in table.schema.items() if isinstance(dtype, pl.Datetime) and dtype.time_zone]
    table = table.with_columns(pl.col(name).dt.to_string("%Y-%m-%d %H:%M:%S%.f%:z") for name in zoned)
    return table.write_csv(include_header=False, null_value="\\N", datetime_format="%Y-%m-%d %H:%M:%S%.f")


def _polars_column(values: pd.Series) -> pl.Series:
    """The column in polars; an object column that is not one flat type (mixed values, dicts,
    Decimals with other types) is each value's str(), as pandas would write it."""
    if values.dtype == object:
        try:
            column = pl.from_pandas(values)
            if not column.dtype.is_nested():
                return column
        except (ValueError, TypeError):  # pyarrow's ArrowInvalid is a ValueError
            pass
        text = values.map(str, na_action="ignore").astype(object).where(values.notna(), None)
        return pl.Series(values.name, text.tolist(), dtype=pl.String)
    return pl.from_pandas(values)


def _audit(
    cur: psycopg.Cursor,
    load_id: int | None,
    table: str,
    mode: str,
    scope_json: str,
    run_id: str,
    staged: int,
    deleted: int | None,
    written: int | None,
    status: str,
    error: str | None,
    started: datetime,
) -> None:
    cur.execute(
        "INSERT INTO support.load_audit (load_id, table_name, mode, scope, dagster_run_id, rows_staged,"
        " rows_deleted, rows_written, status, error, started_at)"
        " VALUES (COALESCE(%s, nextval('support.load_audit_load_id_seq')), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (load_id, table, mode, scope_json, run_id, staged, deleted, written, status, error, started),
    )


def record_load(conn: psycopg.Connection, cycle_date: date, table: str, run_id: str, rows: int) -> None:
    """One row per (cycle, table, Dagster run) in support.pipeline_runs: what each run loaded."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO support.pipeline_runs (cycle_date, table_name, dagster_run_id, rows_loaded)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (cycle_date, table_name, dagster_run_id)"
            " DO UPDATE SET rows_loaded = EXCLUDED.rows_loaded, loaded_at = now()",
            (cycle_date, table, run_id, rows),
        )
