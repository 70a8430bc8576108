"""Monthly RANGE partitions of the gold tables that grow every cycle (analytics.forecasts, migration 0006),
each split by day since migration 0010 (a cycle's rows in a table of their own).

Partitions are created on demand before a load (support.ensure_month_partition, in a short
transaction of their own: an empty partition changes no reader's answer), and whole months past the
retention are dropped after a successful load. A cycle new to its month is loaded into a day
partition built and indexed apart, then attached (lib/gold/loader.py `replace_cycle`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import psycopg
from psycopg import sql

# How long a retention drop may wait for the table's lock before giving up until the next cycle,
# so that it never queues readers behind it for long.
DROP_LOCK_TIMEOUT = "5s"
_BOUNDS = re.compile(r"FROM \('(\d{4}-\d{2}-\d{2})'\) TO \('(\d{4}-\d{2}-\d{2})'\)")


@dataclass(frozen=True)
class Partition:
    schema: str
    name: str
    start: date  # inclusive
    end: date  # exclusive

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def partition_key(conn: psycopg.Connection, table: str) -> str | None:
    """The column `table` is RANGE-partitioned on, or None for a plain table."""
    row = conn.execute(
        "SELECT a.attname FROM pg_partitioned_table AS p"
        " JOIN pg_attribute AS a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]"
        " WHERE p.partrelid = to_regclass(%s) AND p.partstrat = 'r'",
        (table,),
    ).fetchone()
    return row[0] if row else None


def ensure_partitions_for(conn: psycopg.Connection, table: str, frame: pd.DataFrame) -> None:
    """Create the partitions the rows of `frame` need when `table` is partitioned (the month's, and the
    day's in a month split by day); commit them."""
    with conn.transaction():
        key = partition_key(conn, table)
        if key is None:
            return
        for day in sorted(set(pd.to_datetime(frame[key].dropna()).dt.date)):
            partitions = new_day_partition(conn, table, day)
            if partitions is not None:
                month, leaf = partitions
                create_detached(conn, leaf, month)
                attach_partition(conn, month, leaf)


def new_day_partition(conn: psycopg.Connection, table: str, day: date) -> tuple[Partition, Partition] | None:
    """(month, day) partitions of `table` for rows of `day` that would be the first of their day: the
    month is split by day (created now when missing, committed) and no partition holds `day` yet. None
    when the rows go through the parent instead (a plain table, a month made before migration 0010,
    a day already loaded)."""
    with conn.transaction():
        if partition_key(conn, table) is None:
            return None
        month = _ensure_month(conn, table, day)
        leaf = _day_partition(month, day)
        if partition_key(conn, month.qualified) is None or _exists(conn, leaf):
            return None
    return month, leaf


def create_detached(conn: psycopg.Connection | psycopg.Cursor, partition: Partition, like: Partition) -> None:
    """`partition` as a table of its own with the columns, defaults and checks of `like` and no index: rows
    copied into it are indexed once, when it is attached."""
    conn.execute(
        sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)").format(
            _identifier(partition), _identifier(like)
        )
    )


def attach_partition(conn: psycopg.Connection | psycopg.Cursor, parent: Partition, partition: Partition) -> None:
    """Attach `partition` to `parent` for its bounds. PostgreSQL builds the indexes it lacks and checks its
    rows (the bounds, the foreign keys) with one query each; readers of `parent` are not blocked."""
    conn.execute(
        sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
            _identifier(parent), _identifier(partition), sql.Literal(partition.start), sql.Literal(partition.end)
        )
    )


def _ensure_month(conn: psycopg.Connection, table: str, day: date) -> Partition:
    month = conn.execute("SELECT support.ensure_month_partition(%s::regclass, %s)::oid", (table, day)).fetchone()[0]
    schema, name = conn.execute(  # a statement of its own: it sees the partition just created
        "SELECT n.nspname, c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
        " WHERE c.oid = %s",
        (month,),
    ).fetchone()
    start = day.replace(day=1)
    return Partition(schema, name, start, (start + timedelta(days=32)).replace(day=1))


def _day_partition(month: Partition, day: date) -> Partition:
    """The day's partition of a month split by day: <month partition>_DD."""
    return Partition(month.schema, f"{month.name}_{day:%d}", day, day + timedelta(days=1))


def _identifier(partition: Partition) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(partition.schema), sql.Identifier(partition.name))


def _exists(conn: psycopg.Connection, partition: Partition) -> bool:
    return conn.execute("SELECT to_regclass(%s)", (partition.qualified,)).fetchone()[0] is not None


def month_partitions(conn: psycopg.Connection, table: str) -> list[Partition]:
    """The partitions of `table` with their bounds, oldest first."""
    rows = conn.execute(
        "SELECT n.nspname, c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits AS i"
        " JOIN pg_class AS c ON c.oid = i.inhrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace"
        " WHERE i.inhparent = to_regclass(%s)",
        (table,),
    ).fetchall()
    found = []
    for schema, name, bound in rows:
        start, end = _BOUNDS.search(bound).groups()
        found.append(Partition(schema, name, date.fromisoformat(start), date.fromisoformat(end)))
    return sorted(found, key=lambda p: p.start)


def drop_partitions_before(conn: psycopg.Connection, table: str, cutoff: date) -> list[str]:
    """Drop every partition of `table` whose rows all fall before `cutoff`; return their names.

    One transaction. Dropping a partition locks the whole table, so the wait for that lock is
    capped at DROP_LOCK_TIMEOUT: past it psycopg.errors.LockNotAvailable is raised and nothing is
    dropped (the next cycle tries again).
    """
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(DROP_LOCK_TIMEOUT)))
        expired = [p for p in month_partitions(conn, table) if p.end <= cutoff]
        for partition in expired:
            conn.execute(
                sql.SQL("DROP TABLE {}.{}").format(sql.Identifier(partition.schema), sql.Identifier(partition.name))
            )
    return [p.qualified for p in expired]
