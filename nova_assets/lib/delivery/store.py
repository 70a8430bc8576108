"""The delivery log and the alert send state in Postgres (tables of migration 0002).

Enqueueing a digest writes its log row and its dedupe keys in one transaction, before any send:
a crash after that point leaves a 'pending' row that the next dispatch sends, never a lost or
duplicated alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from nova_assets.lib.delivery.outbox import Digest, Key
from nova_assets.lib.inventory.alerts import Severity

DISPATCH_LOCK = "nova_alert_dispatch"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body_text: str
    body_html: str | None = None
    attachment: str | None = None


@dataclass(frozen=True)
class Due:
    id: int
    cycle_date: date
    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    attachment: str | None
    attempts: int


def lock(conn: psycopg.Connection) -> None:
    """One dispatcher at a time (held until the session ends)."""
    conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (DISPATCH_LOCK,))


def unlock(conn: psycopg.Connection) -> None:
    conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (DISPATCH_LOCK,))


def sent_on(conn: psycopg.Connection, day: date) -> dict[Key, Severity]:
    rows = conn.execute(
        "SELECT material_id, channel, recipient, severity FROM support.alert_send_state WHERE alert_date = %s", (day,)
    ).fetchall()
    return {(m, c, r): Severity(s) for m, c, r, s in rows}


def last_sent_before(conn: psycopg.Connection, day: date) -> dict[Key, Severity]:
    rows = conn.execute(
        "SELECT DISTINCT ON (material_id, channel, recipient) material_id, channel, recipient, severity"
        " FROM support.alert_send_state WHERE alert_date < %s"
        " ORDER BY material_id, channel, recipient, alert_date DESC",
        (day,),
    ).fetchall()
    return {(m, c, r): Severity(s) for m, c, r, s in rows}


def enqueue(conn: psycopg.Connection, digest: Digest, rendered: Rendered) -> int:
    """Log the digest as 'pending' and record its alerts as told, atomically; return the log id."""
    with conn.transaction():
        (log_id,) = conn.execute(
            "INSERT INTO support.delivery_log (cycle_date, channel, recipient, kind, subject, body_text, body_html,"
            " attachment, material_ids, status) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending') RETURNING id",
            (
                digest.cycle_date,
                digest.channel,
                digest.recipient,
                digest.kind,
                rendered.subject,
                rendered.body_text,
                rendered.body_html,
                rendered.attachment,
                digest.material_ids,
            ),
        ).fetchone()
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO support.alert_send_state (alert_date, material_id, channel, recipient, severity,"
                " delivery_id) VALUES (%s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (alert_date, material_id, channel, recipient) DO UPDATE"
                " SET severity = EXCLUDED.severity, delivery_id = EXCLUDED.delivery_id, updated_at = now()",
                [
                    (digest.cycle_date, line.material_id, digest.channel, digest.recipient, str(line.severity), log_id)
                    for line in digest.lines
                ],
            )
    return int(log_id)


def record_skip(conn: psycopg.Connection, cycle_date: date, channel: str, note: str) -> bool:
    """One 'skipped' row per channel and cycle; False when it was already there."""
    with conn.transaction():
        exists = conn.execute(
            "SELECT 1 FROM support.delivery_log WHERE cycle_date = %s AND channel = %s AND status = 'skipped'",
            (cycle_date, channel),
        ).fetchone()
        if exists:
            return False
        conn.execute(
            "INSERT INTO support.delivery_log (cycle_date, channel, recipient, kind, subject, body_text, status,"
            " last_error) VALUES (%s, %s, '-', 'skipped', %s, '', 'skipped', %s)",
            (cycle_date, channel, f"canal {channel} não configurado", note),
        )
    return True


def due(conn: psycopg.Connection, channel: str) -> list[Due]:
    """Messages of `channel` still to send (new or failed before), oldest first."""
    rows = conn.execute(
        "SELECT id, cycle_date, channel, recipient, subject, body_text, body_html, attachment, attempts"
        " FROM support.delivery_log WHERE channel = %s AND status IN ('pending', 'failed') ORDER BY id",
        (channel,),
    ).fetchall()
    return [Due(*row) for row in rows]


def mark_sent(conn: psycopg.Connection, log_id: int, provider_id: str) -> None:
    with conn.transaction():
        conn.execute(
            "UPDATE support.delivery_log SET status = 'sent', attempts = attempts + 1, provider_message_id = %s,"
            " last_error = NULL, sent_at = now(), updated_at = now() WHERE id = %s",
            (provider_id, log_id),
        )


def mark_failed(conn: psycopg.Connection, log_id: int, error: str, retryable: bool, max_attempts: int) -> str:
    """Count the attempt; 'failed' (retried by the next dispatch) or 'dead' (kept, not retried)."""
    with conn.transaction():
        (status,) = conn.execute(
            "UPDATE support.delivery_log SET attempts = attempts + 1, last_error = %s, updated_at = now(),"
            " status = CASE WHEN %s AND attempts + 1 < %s THEN 'failed' ELSE 'dead' END"
            " WHERE id = %s RETURNING status",
            (error[:2000], retryable, max_attempts, log_id),
        ).fetchone()
    return str(status)
