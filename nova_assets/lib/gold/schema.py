"""Versioned SQL migrations for the gold layer: each file runs once, in order, in a transaction."""

from __future__ import annotations

from importlib import resources

import psycopg

MIGRATIONS_PACKAGE = "nova_assets.lib.gold.migrations"


def available() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped with the package, in order."""
    found = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply the pending migrations; return the names applied. Safe to call on every run."""
    with conn.transaction():
        conn.execute("CREATE SCHEMA IF NOT EXISTS support")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS support.schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        # One migrator at a time, even with parallel runs.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('nova_gold_migrations'))")
        done = {row[0] for row in conn.execute("SELECT version FROM support.schema_migrations")}
        applied = []
        for version, name, sql in available():
            if version in done:
                continue
            conn.execute(sql)
            conn.execute("INSERT INTO support.schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            applied.append(name)
    return applied
