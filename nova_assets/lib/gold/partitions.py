"""Monthly RANGE partitions of the gold tables that grow every cycle (analytics.forecasts, migration 0006).

Partitions are created on demand before a load (support.ensure_month_partition, in a short
transaction of their own: an empty partition changes no reader's answer), and whole partitions
past the retention are dropped after a successful load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

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
    """Create the monthly partitions the rows of `frame` need when `table` is partitioned; commit them."""
    with conn.transaction():
        key = partition_key(conn, table)
        if key is None:
            return
        for month in sorted({day.replace(day=1) for day in pd.to_datetime(frame[key].dropna()).dt.date}):
            conn.execute("SELECT support.ensure_month_partition(%s::regclass, %s)", (table, month))


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
