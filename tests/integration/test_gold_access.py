"""The read-only BI role: reads every published schema, cannot write or create anything, and
cannot log in at all unless NOVA_BI_PASSWORD gave it a password."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from nova_assets.lib.gold.roles import BI_ROLE, configure_bi_role
from nova_assets.lib.gold.schema import migrate

PASSWORD = "bi-test-password"  # test-only; in production it comes from NOVA_BI_PASSWORD

WRITES = [
    "INSERT INTO core.suppliers VALUES ('SX', 'x', 1, 1)",
    "UPDATE core.suppliers SET supplier_name = 'x'",
    "DELETE FROM analytics.alerts",
    "TRUNCATE analytics.forecasts",
    "CREATE TABLE analytics.bi_scratch (x int)",
    "CREATE TABLE public.bi_scratch (x int)",
    "CREATE TABLE marts.bi_scratch (x int)",
    "CREATE SCHEMA bi_scratch",
    "DROP TABLE core.sites",
    "SELECT * FROM staging.core__suppliers",
]


def _as_bi(url: str) -> str:
    parts = urlsplit(url)
    host = f"{BI_ROLE}:{PASSWORD}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@pytest.fixture
def published(gold_url: str) -> str:
    with psycopg.connect(gold_url) as conn:
        migrate(conn)
        conn.execute("INSERT INTO core.suppliers VALUES ('S1', 'Fornecedor', 10, 2)")
        conn.execute("CREATE TABLE staging.core__suppliers (LIKE core.suppliers)")
        conn.execute("CREATE TABLE marts.kpi_probe AS SELECT 1 AS x")  # created later, like dbt's marts
        conn.commit()
    return gold_url


def test_bi_role_reads_but_cannot_write(published: str) -> None:
    with psycopg.connect(published) as conn:
        assert configure_bi_role(conn, PASSWORD).startswith("login")
    with psycopg.connect(_as_bi(published), autocommit=True) as bi:
        assert bi.execute("SELECT supplier_name FROM core.suppliers").fetchall() == [("Fornecedor",)]
        assert bi.execute("SELECT count(*) FROM core.regions").fetchone()[0] >= 54
        assert bi.execute("SELECT x FROM marts.kpi_probe").fetchone() == (1,)
        assert bi.execute("SELECT count(*) FROM support.schema_migrations").fetchone()[0] >= 3
        for statement in WRITES:
            with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)):
                bi.execute(statement)
        # even after leaving read-only mode, the privileges still refuse
        bi.execute("SET default_transaction_read_only = off")
        for statement in WRITES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute(statement)


def test_bi_role_cannot_log_in_without_a_password(published: str) -> None:
    with psycopg.connect(published) as conn:
        assert configure_bi_role(conn, None).startswith("nologin")
        assert conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (BI_ROLE,)).fetchone() == (False,)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(_as_bi(published), connect_timeout=5).close()
