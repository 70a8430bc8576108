"""Acknowledge or resolve an alert (one material in one cycle), with a comment; audited with before/after."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import psycopg

from nova_assets.lib.platform import audit
from nova_assets.lib.platform.errors import Invalid, NotFound
from nova_assets.lib.platform.users import User

MAX_COMMENT = 2000


class AlertStatus(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


def current_status(conn: psycopg.Connection, cycle_date: date, material_id: str) -> dict | None:
    row = conn.execute(
        "SELECT a.status, a.comment, u.username, a.at FROM support.alert_actions a JOIN support.users u USING (user_id)"
        " WHERE a.cycle_date = %s AND a.material_id = %s ORDER BY a.at DESC, a.action_id DESC LIMIT 1",
        (cycle_date, material_id),
    ).fetchone()
    if row is None:
        return None
    return {"status": row[0], "comment": row[1], "by": row[2], "at": row[3].isoformat()}


def act(
    conn: psycopg.Connection,
    user: User,
    cycle_date: date,
    material_id: str,
    status: AlertStatus | str,
    comment: str,
    address: str | None,
) -> dict:
    """Record the action and its audit row in one transaction; returns the new status."""
    try:
        status = AlertStatus(status)
    except ValueError as exc:
        raise Invalid("status deve ser acknowledged ou resolved") from exc
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid(f"comentário com mais de {MAX_COMMENT} caracteres")
    with conn.transaction():
        alert = conn.execute(
            "SELECT severity FROM analytics.alerts WHERE cycle_date = %s AND material_id = %s",
            (cycle_date, material_id),
        ).fetchone()
        if alert is None:
            raise NotFound(f"não há alerta do material {material_id} no ciclo {cycle_date}")
        before = current_status(conn, cycle_date, material_id)
        if before and before["status"] == AlertStatus.RESOLVED and status is AlertStatus.ACKNOWLEDGED:
            raise Invalid("o alerta já está resolvido")
        conn.execute(
            "INSERT INTO support.alert_actions (cycle_date, material_id, status, comment, user_id)"
            " VALUES (%s, %s, %s, %s, %s)",
            (cycle_date, material_id, status.value, comment, user.user_id),
        )
        after = current_status(conn, cycle_date, material_id)
        audit.record(
            conn,
            f"alert_{status.value}",
            user_id=user.user_id,
            username=user.username,
            address=address,
            target=f"alert:{cycle_date}:{material_id}",
            before=before,
            after=after,
            detail={"severity": alert[0]},
        )
    return after
