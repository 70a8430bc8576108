"""Send today's alerts: plan digests (dedupe, escalation), log them, then send everything due.

Order of work: a channel without credentials is skipped with a logged note; the digests of the
configured channels are enqueued (log + send state, atomically); then every pending or failed
message of those channels, today's and older ones, is tried once. A failure is logged and left
for the next dispatch (the hourly retry job or tomorrow's cycle); nothing raises past here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pandas as pd
import psycopg

from nova_assets.lib.delivery import email, outbox, store, whatsapp
from nova_assets.lib.delivery.errors import DeliveryError
from nova_assets.lib.delivery.routing import CHANNELS, Routing

DEFAULT_MAX_ATTEMPTS = 8


@dataclass
class DispatchResult:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    notes: list[str] = field(default_factory=list)


def render(digest: outbox.Digest, attachment: Path | None) -> store.Rendered:
    if digest.channel == "email":
        return store.Rendered(
            outbox.subject(digest),
            outbox.email_text(digest),
            outbox.email_html(digest),
            str(attachment) if attachment else None,
        )
    return store.Rendered(outbox.subject(digest), outbox.whatsapp_text(digest))


def _send(
    message: store.Due, smtp: email.SmtpSettings, wa: whatsapp.WhatsAppSettings, client: httpx.Client | None
) -> str:
    if message.channel == "email":
        built = email.build_message(
            smtp.sender,
            message.recipient,
            message.subject,
            message.body_text,
            message.body_html or "",
            Path(message.attachment) if message.attachment else None,
        )
        return email.send(smtp, built)
    return whatsapp.send(wa, whatsapp.payload(wa, message.recipient, message.body_text), client)


def dispatch(
    conn: psycopg.Connection,
    alerts: pd.DataFrame,
    routing: Routing,
    smtp: email.SmtpSettings,
    wa: whatsapp.WhatsAppSettings,
    attachment: Path | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    client: httpx.Client | None = None,
) -> DispatchResult:
    """Plan, log and send (see the module docstring). `conn` must be in autocommit mode."""
    if not conn.autocommit:
        raise ValueError("dispatch needs an autocommit connection (each step commits on its own)")
    result = DispatchResult()
    store.lock(conn)
    try:
        missing = {"email": smtp.missing, "whatsapp": wa.missing}
        configured = [c for c in CHANNELS if not missing[c]]
        cycle_date = pd.Timestamp(alerts["cycle_date"].iloc[0]).date() if not alerts.empty else None
        for channel in CHANNELS:
            if missing[channel]:
                note = f"{channel}: canal ignorado, falta(m) {', '.join(missing[channel])}"
                result.notes.append(note)
                if cycle_date is not None:
                    store.record_skip(conn, cycle_date, channel, note)
        if cycle_date is not None:
            digests = outbox.plan(
                alerts,
                routing,
                configured,
                store.sent_on(conn, cycle_date),
                store.last_sent_before(conn, cycle_date),
            )
            for digest in digests:
                store.enqueue(conn, digest, render(digest, attachment))
            result.queued = len(digests)
        for channel in configured:
            for message in store.due(conn, channel):
                try:
                    provider_id = _send(message, smtp, wa, client)
                except DeliveryError as exc:
                    status = store.mark_failed(conn, message.id, str(exc), exc.retryable, max_attempts)
                    result.failed += status == "failed"
                    result.dead += status == "dead"
                    result.notes.append(f"{channel} -> {message.recipient}: {exc} ({status})")
                    continue
                store.mark_sent(conn, message.id, provider_id)
                result.sent += 1
    finally:
        store.unlock(conn)
    return result
