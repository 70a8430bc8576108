"""The read-only BI role: created NOLOGIN by migration 0004; may log in only with a password from the environment."""

from __future__ import annotations

import psycopg
from psycopg import sql

BI_ROLE = "nova_bi"


def configure_bi_role(conn: psycopg.Connection, password: str | None) -> str:
    """LOGIN with `password` when given, NOLOGIN otherwise; always read-only by default. Returns the state.

    The password is sent as a quoted literal (ALTER ROLE takes no bind parameters), never concatenated.
    """
    with conn.transaction():
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (BI_ROLE,)).fetchone()
        if not exists:
            return "absent (the migrator may not create roles)"
        role = sql.Identifier(BI_ROLE)
        try:
            with conn.transaction():
                if password:
                    conn.execute(sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(role, sql.Literal(password)))
                else:
                    conn.execute(sql.SQL("ALTER ROLE {} WITH NOLOGIN PASSWORD NULL").format(role))
                conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(role))
        except psycopg.errors.InsufficientPrivilege:
            return "unchanged (the loader may not alter roles)"
    return "login (password from NOVA_BI_PASSWORD)" if password else "nologin (NOVA_BI_PASSWORD is not set)"
