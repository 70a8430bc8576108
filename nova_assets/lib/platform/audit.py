"""The audit trail (support.audit_log): who, when, from which address, what, before/after values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row


@dataclass(frozen=True)
class AuditEntry:
    audit_id: int
    at: datetime
    user_id: int | None
    username: str | None
    address: str | None
    action: str
    target: str | None
    outcome: str
    before: Any
    after: Any
    detail: Any


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, default=str, ensure_ascii=False)


def record(
    conn: psycopg.Connection,
    action: str,
    *,
    outcome: str = "ok",
    user_id: int | None = None,
    username: str | None = None,
    address: str | None = None,
    target: str | None = None,
    before: object = None,
    after: object = None,
    detail: dict[str, object] | None = None,
) -> None:
    """Append one row; inside the caller's transaction when there is one (so a write and its audit commit together)."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO support.audit_log (user_id, username, address, action, target, outcome, before, after, detail)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (user_id, username, address, action, target, outcome, _json(before), _json(after), _json(detail or {})),
        )


def entries(
    conn: psycopg.Connection,
    *,
    action: str | None = None,
    username: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Newest first, optionally one action or one user; with the total for paging."""
    where = (
        "(%(action)s::text IS NULL OR action = %(action)s) AND (%(username)s::text IS NULL OR username = %(username)s)"
    )
    params = {"action": action, "username": username, "limit": limit, "offset": offset}
    total = conn.execute(f"SELECT count(*) FROM support.audit_log WHERE {where}", params).fetchone()[0]
    rows = (
        conn.cursor(row_factory=class_row(AuditEntry))
        .execute(
            "SELECT audit_id, at, user_id, username, address, action, target, outcome, before, after, detail"
            f" FROM support.audit_log WHERE {where} ORDER BY audit_id DESC LIMIT %(limit)s OFFSET %(offset)s",
            params,
        )
        .fetchall()
    )
    return rows, total
