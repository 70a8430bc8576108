"""The API's database access: the least-privilege role `nova_api` (migration 0007) and a connection pool.

The role reads gold (core, analytics, marts) and writes only the API's own support tables. The web
app gives it LOGIN with a password generated into the data folder, using the gold owner's URL once
at start; the pool then connects as `nova_api` only.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from nova_assets.lib.gold.schema import migrate

API_ROLE = "nova_api"
STATEMENT_TIMEOUT_MS = 10_000


class DatabaseSetupError(RuntimeError):
    """The API role cannot be prepared; the message says what to set (never a password)."""


def prepare_api_role(owner_url: str, password: str) -> str:
    """Apply the gold migrations, give `nova_api` LOGIN with `password`; return the role's URL."""
    with psycopg.connect(owner_url) as conn:
        migrate(conn)
        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
                        sql.Identifier(API_ROLE), sql.Literal(password)
                    )
                )
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedObject) as exc:
            raise DatabaseSetupError(
                f"cannot give role {API_ROLE} a login ({type(exc).__name__}): create it with the grants of"
                " migration 0007 and set NOVA_API_POSTGRES_URL to its URL"
            ) from exc
    return with_login(owner_url, API_ROLE, password)


def with_login(url: str, user: str, password: str) -> str:
    """`url` with another user and password."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def open_pool(url: str, max_size: int = 10) -> ConnectionPool:
    """Autocommit connections (each write is its own `conn.transaction()`), a statement timeout, and custom
    plans only: psycopg prepares a statement run 5 times, and PostgreSQL's generic plan of the read
    models' `%(x)s IS NULL OR ...` filters can neither fold the unused filters nor drop their joins."""
    pool = ConnectionPool(
        url,
        min_size=2,
        max_size=max_size,
        kwargs={
            "autocommit": True,
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c plan_cache_mode=force_custom_plan",
        },
        open=False,
        name="nova-api",
    )
    pool.open(wait=True, timeout=30)
    return pool
