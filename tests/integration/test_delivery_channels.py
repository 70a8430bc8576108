"""Each channel against a real local server, and the dispatcher against Postgres.

E-mail goes to an aiosmtpd server on 127.0.0.1; WhatsApp to a local HTTP server that checks the
Cloud API payload and the bearer token; the delivery log and the dedupe state live in the test
PostgreSQL (migrations applied as in production).
"""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg
import pytest
from aiosmtpd.controller import Controller

from nova_assets.defs.automation.resources import OpsAlertConfig
from nova_assets.defs.automation.sensors import run_failure_alert
from nova_assets.defs.delivery.resources import SmtpResource
from nova_assets.lib.delivery.dispatch import dispatch
from nova_assets.lib.delivery.email import SmtpSettings, build_message
from nova_assets.lib.delivery.email import send as send_email
from nova_assets.lib.delivery.errors import DeliveryError
from nova_assets.lib.delivery.routing import parse_routing
from nova_assets.lib.delivery.whatsapp import WhatsAppSettings, payload
from nova_assets.lib.delivery.whatsapp import send as send_whatsapp
from nova_assets.lib.gold.schema import migrate

TOKEN = "test-token-123"
PHONE_ID = "1098765"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Mailbox:
    """aiosmtpd handler: keeps every message; answers `refuse` (e.g. '550 ...') while it is set."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.refuse: str | None = None

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        if self.refuse:
            return self.refuse
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Mailbox, int]]:
    mailbox = _Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@dataclass
class _WhatsApp:
    """Records POSTs; answers the queued (status, body) replies in order, then 200 with a wamid."""

    url: str = ""
    requests: list[tuple[str, dict, dict]] = field(default_factory=list)
    replies: list[tuple[int, dict]] = field(default_factory=list)


@pytest.fixture
def whatsapp_server() -> Iterator[_WhatsApp]:
    state = _WhatsApp()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append((self.path, dict(self.headers), body))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, reply = (
                    401,
                    {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}},
                )
            elif state.replies:
                status, reply = state.replies.pop(0)
            else:
                status = 200
                reply = {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                    "messages": [{"id": f"wamid.{len(state.requests)}"}],
                }
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v21.0"
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def _smtp(port: int) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1", port=port, sender="alertas@nova-corrente.example", security="none", timeout_s=5
    )


def _wa(url: str, token: str = TOKEN) -> WhatsAppSettings:
    return WhatsAppSettings(token=token, phone_number_id=PHONE_ID, api_url=url, attempts=2, backoff_s=0.01)


# --- e-mail ---------------------------------------------------------------------------------------


def test_email_arrives_with_text_html_and_the_pdf(smtp_server: tuple[_Mailbox, int], tmp_path: Path) -> None:
    mailbox, port = smtp_server
    pdf = tmp_path / "relatorio.pdf"
    pdf.write_bytes(b"%PDF-1.4 test")
    message = build_message(
        "alertas@nova-corrente.example",
        "compras@example.com",
        "Alertas 09/11/2025",
        "Estoque 65 <= PP 141,5",
        "<p>Estoque 65 &lt;= PP 141,5</p>",
        pdf,
    )
    message_id = send_email(_smtp(port), message)
    ((rcpts, received),) = mailbox.messages
    assert rcpts == ["compras@example.com"]
    assert received["Subject"] == "Alertas 09/11/2025" and received["Message-ID"] == message_id
    types = [part.get_content_type() for part in received.walk()]
    assert types == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"]
    text = next(p for p in received.walk() if p.get_content_type() == "text/plain")
    assert "Estoque 65 <= PP 141,5" in text.get_payload(decode=True).decode()
    attachment = next(p for p in received.walk() if p.get_content_type() == "application/pdf")
    assert attachment.get_filename() == "relatorio.pdf" and attachment.get_payload(decode=True) == b"%PDF-1.4 test"


@pytest.mark.parametrize(("answer", "retryable"), [("550 5.1.1 no such user", False), ("451 4.3.0 try later", True)])
def test_email_refusals_say_whether_a_retry_helps(
    smtp_server: tuple[_Mailbox, int], answer: str, retryable: bool
) -> None:
    mailbox, port = smtp_server
    mailbox.refuse = answer
    with pytest.raises(DeliveryError) as raised:
        send_email(_smtp(port), build_message("a@example.com", "b@example.com", "s", "t", "<p>t</p>"))
    assert raised.value.retryable is retryable


def test_email_server_down_is_retryable() -> None:
    with pytest.raises(DeliveryError) as raised:
        send_email(_smtp(_free_port()), build_message("a@example.com", "b@example.com", "s", "t", "<p>t</p>"))
    assert raised.value.retryable


# --- WhatsApp -------------------------------------------------------------------------------------


def test_whatsapp_cloud_api_payload(whatsapp_server: _WhatsApp) -> None:
    settings = _wa(whatsapp_server.url)
    message_id = send_whatsapp(settings, payload(settings, "+55 71 90000-0000", "🔴 CRÍTICO M1"))
    assert message_id == "wamid.1"
    ((path, headers, body),) = whatsapp_server.requests
    assert path == f"/v21.0/{PHONE_ID}/messages"
    assert headers["Authorization"] == f"Bearer {TOKEN}" and headers["Content-Type"] == "application/json"
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5571900000000",
        "type": "text",
        "text": {"preview_url": False, "body": "🔴 CRÍTICO M1"},
    }


def test_whatsapp_retries_a_server_error_then_succeeds(whatsapp_server: _WhatsApp) -> None:
    whatsapp_server.replies.append((503, {"error": {"message": "busy", "code": 2}}))
    settings = _wa(whatsapp_server.url)
    assert send_whatsapp(settings, payload(settings, "5571900000000", "x")) == "wamid.2"
    assert len(whatsapp_server.requests) == 2


def test_whatsapp_errors_keep_the_token_out_and_classify(whatsapp_server: _WhatsApp) -> None:
    whatsapp_server.replies.append(
        (400, {"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}})
    )
    settings = _wa(whatsapp_server.url)
    with pytest.raises(DeliveryError) as bad:
        send_whatsapp(settings, payload(settings, "55", "x"))
    assert not bad.value.retryable and "Invalid parameter" in str(bad.value)
    wrong = _wa(whatsapp_server.url, token="expired")
    with pytest.raises(DeliveryError) as unauthorised:
        send_whatsapp(wrong, payload(wrong, "55", "x"))
    assert unauthorised.value.retryable and "expired" not in str(unauthorised.value)


# --- dispatch: log, dedupe, escalation, retry, skipped channel ----------------------------------------

ROUTING = parse_routing(
    '[min_severity]\nemail = "ALTO"\nwhatsapp = "CRÍTICO"\n'
    '[default]\nemail = ["compras@example.com"]\nwhatsapp = ["5571900000000"]\n'
    '[category."Batteries"]\nemail = ["energia@example.com"]\n'
)


def _alerts(severities: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "material_id": mid,
                "description": f"peça {mid}",
                "severity": sev,
                "message": f"Estoque de {mid}",
                "action": "COMPRAR 10 unidades hoje",
                "detail": "",
                "category": "Batteries" if mid == "M1" else "Cables",
                "site_id": None,
                "cycle_date": date(2025, 11, 9),
                "stale_warning": "",
            }
            for mid, sev in severities.items()
        ]
    )


@pytest.fixture
def gold(gold_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(gold_url, autocommit=True) as conn:
        migrate(conn)
        yield conn


def _log(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT channel, recipient, kind, status, attempts, material_ids FROM support.delivery_log ORDER BY id"
    ).fetchall()


def test_dispatch_sends_once_per_day_and_escalates(
    gold: psycopg.Connection, smtp_server: tuple[_Mailbox, int], whatsapp_server: _WhatsApp
) -> None:
    mailbox, port = smtp_server
    alerts = _alerts({"M1": "ALTO", "M2": "CRÍTICO", "M3": "OK"})
    first = dispatch(gold, alerts, ROUTING, _smtp(port), _wa(whatsapp_server.url))
    assert (first.queued, first.sent, first.failed) == (3, 3, 0)
    assert sorted(r[0] for r, _ in mailbox.messages) == ["compras@example.com", "energia@example.com"]
    assert [b["to"] for _, _, b in whatsapp_server.requests] == ["5571900000000"]  # only CRÍTICO on WhatsApp
    assert {row[3] for row in _log(gold)} == {"sent"}

    again = dispatch(gold, alerts, ROUTING, _smtp(port), _wa(whatsapp_server.url))
    assert (again.queued, again.sent) == (0, 0)
    assert len(mailbox.messages) == 2 and len(whatsapp_server.requests) == 1

    worse = dispatch(
        gold, _alerts({"M1": "CRÍTICO", "M2": "CRÍTICO", "M3": "OK"}), ROUTING, _smtp(port), _wa(whatsapp_server.url)
    )
    assert worse.queued == 3  # M1 escalated: compras + energia by e-mail, and now WhatsApp too
    escalations = [row for row in _log(gold) if row[2] == "escalation"]
    assert {(row[0], row[1]) for row in escalations} == {
        ("email", "compras@example.com"),
        ("email", "energia@example.com"),
    }
    assert all(row[5] == ["M1"] for row in _log(gold)[-3:])
    subjects = [m["Subject"] for _, m in mailbox.messages[2:]]
    assert all("ESCALONAMENTO" in s for s in subjects)
    state = gold.execute("SELECT DISTINCT severity FROM support.alert_send_state WHERE material_id = 'M1'").fetchall()
    assert state == [("CRÍTICO",)]


def test_failed_sends_are_kept_and_retried_later(
    gold: psycopg.Connection, smtp_server: tuple[_Mailbox, int], whatsapp_server: _WhatsApp
) -> None:
    mailbox, port = smtp_server
    alerts = _alerts({"M2": "ALTO"})
    down = dispatch(gold, alerts, ROUTING, _smtp(_free_port()), _wa(whatsapp_server.url))
    assert (down.queued, down.sent, down.failed) == (1, 0, 1)
    assert _log(gold)[0][3:5] == ("failed", 1)
    # the next dispatch (hourly retry, or tomorrow's cycle) sends it; today's alert is not queued twice
    up = dispatch(gold, alerts, ROUTING, _smtp(port), _wa(whatsapp_server.url))
    assert (up.queued, up.sent) == (0, 1)
    assert _log(gold)[0][3:5] == ("sent", 2)
    assert len(mailbox.messages) == 1
    # a message the server refuses for good is marked dead at once, and stays in the log
    mailbox.refuse = "550 5.1.1 no such user"
    dispatch(gold, _alerts({"M2": "CRÍTICO"}), ROUTING, _smtp(port), _wa(whatsapp_server.url))
    statuses = {row[0]: row[3] for row in _log(gold)[1:]}
    assert statuses == {"email": "dead", "whatsapp": "sent"}


def test_missing_credentials_skip_the_channel_with_a_note(
    gold: psycopg.Connection, smtp_server: tuple[_Mailbox, int]
) -> None:
    mailbox, port = smtp_server
    no_whatsapp = WhatsAppSettings(token="", phone_number_id="")
    result = dispatch(gold, _alerts({"M2": "CRÍTICO"}), ROUTING, _smtp(port), no_whatsapp)
    assert result.sent == 1 and len(mailbox.messages) == 1
    assert result.notes == ["whatsapp: canal ignorado, falta(m) NOVA_WHATSAPP_TOKEN, NOVA_WHATSAPP_PHONE_NUMBER_ID"]
    dispatch(gold, _alerts({"M2": "CRÍTICO"}), ROUTING, _smtp(port), no_whatsapp)
    skipped = gold.execute("SELECT channel, last_error FROM support.delivery_log WHERE status = 'skipped'").fetchall()
    assert skipped == [("whatsapp", result.notes[0])]  # one note per channel and cycle, not per run
    # nothing was marked as told on WhatsApp: configured later the same day, it still sends
    told = gold.execute("SELECT count(*) FROM support.alert_send_state WHERE channel = 'whatsapp'").fetchone()[0]
    assert told == 0


def _failure_context(resources: dict) -> dg.RunFailureSensorContext:
    """A real failed run on an ephemeral instance, seen by the run-failure sensor."""

    @dg.op
    def breaks() -> None:
        raise RuntimeError("DuckDB warehouse locked")

    @dg.job
    def nightly() -> None:
        breaks()

    instance = dg.DagsterInstance.ephemeral()
    result = nightly.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    return dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources=resources,
    ).for_run_failure()


def test_a_failed_run_is_emailed_to_operations(smtp_server: tuple[_Mailbox, int]) -> None:
    mailbox, port = smtp_server
    smtp = SmtpResource(host="127.0.0.1", port=str(port), sender="dagster@nova.test", security="none")
    run_failure_alert(
        _failure_context({"smtp": smtp, "ops": OpsAlertConfig(recipients="ops@nova.test, plantao@nova.test")})
    )
    assert sorted(r for rcpts, _ in mailbox.messages for r in rcpts) == ["ops@nova.test", "plantao@nova.test"]
    subject = mailbox.messages[0][1]["Subject"]
    assert "FALHA" in subject and "nightly" in subject


@pytest.mark.parametrize("recipients", ["", "ops@nova.test"], ids=["no_recipient", "no_smtp_host"])
def test_a_failed_run_without_settings_is_only_logged(
    smtp_server: tuple[_Mailbox, int], capfd: pytest.CaptureFixture[str], recipients: str
) -> None:
    mailbox, _ = smtp_server
    context = _failure_context({"smtp": SmtpResource(), "ops": OpsAlertConfig(recipients=recipients)})
    capfd.readouterr()  # the failed run's own log
    run_failure_alert(context)
    assert mailbox.messages == []
    # the sensor's context.log writes to the console (Dagster's logger does not reach caplog)
    logged = [line for line in capfd.readouterr().err.splitlines() if "run failure not e-mailed" in line]
    assert len(logged) == 1 and "NOVA_OPS_EMAIL" in logged[0] and "FALHA" in logged[0] and "nightly" in logged[0]
