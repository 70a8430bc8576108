"""Versioned migrations: a database at version 1 holding data upgrades to the latest without losing a row."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import psycopg
from psycopg import sql

from nova_assets.lib.gold.loader import qualified, upsert
from nova_assets.lib.gold.regions import resolve_site_regions
from nova_assets.lib.gold.schema import available, migrate

CYCLE = dt.date(2025, 1, 10)


def _version_1(conn: psycopg.Connection) -> None:
    """What `migrate` built before version 2 existed: 0001 only, and its bookkeeping row."""
    _, name, sql = available()[0]
    assert name == "0001_init.sql"
    with conn.transaction():
        conn.execute("CREATE SCHEMA support")
        conn.execute(
            "CREATE TABLE support.schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(sql)
        conn.execute("INSERT INTO support.schema_migrations (version, name) VALUES (1, %s)", (name,))
        conn.execute("INSERT INTO core.suppliers VALUES ('S1', 'Fornecedor', 10, 2)")
        conn.execute("INSERT INTO core.materials VALUES ('M1', 'Bateria', 'Batteries', 'UN', 1800, 'A', 'S1')")
        conn.execute(
            "INSERT INTO core.sites VALUES ('T1', 'ERB Feira 01', 'tower', 'Portal do Sertão', 'BA',"
            " 'Feira de Santana', '2910800', -12.2, -38.9, 2500)"
        )
        conn.execute(
            "INSERT INTO analytics.forecasts VALUES (%s, 'M1', %s, 'Ensemble', 1.5)",
            (CYCLE, CYCLE + dt.timedelta(days=1)),
        )
        conn.execute(
            "INSERT INTO analytics.alerts VALUES (%s, 'M1', 'ALTO', 'Estoque 3 <= PP 5', 'COMPRAR 4 unidades',"
            " 4, 3, 5, %s, false)",
            (CYCLE, CYCLE),
        )
        conn.execute(
            "INSERT INTO analytics.model_performance VALUES (%s, 'Ensemble', 'ensemble', 0.9, 0.8, 0.01,"
            " 0.02, 1, NULL)",
            (CYCLE,),
        )
        conn.execute("INSERT INTO support.pipeline_runs VALUES (%s, 'analytics.alerts', 'run-1', 1, now())", (CYCLE,))


V1_TABLES = [
    "core.suppliers",
    "core.materials",
    "core.sites",
    "analytics.forecasts",
    "analytics.alerts",
    "analytics.model_performance",
    "support.pipeline_runs",
]


def _snapshot(conn: psycopg.Connection, columns: dict[str, list[str]]) -> dict[str, list[tuple]]:
    """Every row of the version-1 tables, in their version-1 columns (later versions add columns)."""
    snap = {}
    for table, names in columns.items():
        query = sql.SQL("SELECT {} FROM {} ORDER BY 1, 2").format(
            sql.SQL(", ").join(map(sql.Identifier, names)), qualified(table)
        )
        snap[table] = conn.execute(query).fetchall()
    return snap


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    schema, name = table.split(".")
    return [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s"
            " AND table_name = %s ORDER BY ordinal_position",
            (schema, name),
        )
    ]


def test_version_1_upgrades_to_latest_without_data_loss(gold_url: str) -> None:
    with psycopg.connect(gold_url) as conn:
        _version_1(conn)
        columns = {table: _columns(conn, table) for table in V1_TABLES}
        before = _snapshot(conn, columns)
        assert all(before.values())
        applied = migrate(conn)
        assert applied == [name for version, name, _ in available() if version > 1]
        assert _snapshot(conn, columns) == before
        latest = max(v for v, _, _ in available())
        assert conn.execute("SELECT max(version) FROM support.schema_migrations").fetchone()[0] == latest
        assert migrate(conn) == []  # idempotent

        # new structure is there, old rows got NULLs in the new columns
        assert conn.execute("SELECT forecast_lo, interval_level FROM analytics.forecasts").fetchall() == [(None, None)]
        states = conn.execute("SELECT count(*) FROM core.regions WHERE level = 'state'").fetchone()[0]
        territories = conn.execute(
            "SELECT count(*) FROM core.regions WHERE level = 'region' AND state_code = 'BA' AND source = 'SEPLAN-BA'"
        ).fetchone()[0]
        assert (states, territories) == (27, 27)

        # the next load fills the site's region from its ERP name (alias- and accent-insensitive)
        sites = pd.DataFrame(
            [
                {
                    "site_id": "T1",
                    "site_name": "ERB Feira 01",
                    "site_type": "tower",
                    "region": "portal do sertao",
                    "state": "ba",
                    "municipality": "Feira de Santana",
                    "ibge_code": "2910800",
                    "latitude": -12.2,
                    "longitude": -38.9,
                    "sla_penalty_brl_day": 2500.0,
                }
            ]
        )
        sites, new_regions = resolve_site_regions(conn, sites)
        assert new_regions.empty
        upsert(conn, "core.sites", sites, ["site_id"])
        assert conn.execute("SELECT region_code, state FROM core.sites").fetchall() == [("BA-TI19", "BA")]
        # data of version 1 is still there after the load
        assert conn.execute("SELECT count(*) FROM analytics.alerts").fetchone()[0] == 1


def test_fresh_database_gets_every_migration_once(gold_url: str) -> None:
    with psycopg.connect(gold_url) as conn:
        assert migrate(conn) == [name for _, name, _ in available()]
        schemas = {r[0] for r in conn.execute("SELECT schema_name FROM information_schema.schemata")}
        assert {"core", "analytics", "support", "staging", "marts"} <= schemas
        assert migrate(conn) == []
