"""Routing, dedupe and escalation planning, and the message formats of each channel."""

from datetime import date

import pandas as pd
import pytest

from nova_assets.lib.delivery import outbox
from nova_assets.lib.delivery.email import SmtpSettings, build_message
from nova_assets.lib.delivery.routing import parse_routing
from nova_assets.lib.delivery.whatsapp import WhatsAppSettings, payload
from nova_assets.lib.inventory.alerts import Severity

ROUTING = parse_routing(
    """
[min_severity]
email = "ALTO"
whatsapp = "CRÍTICO"

[default]
email = ["compras@example.com"]
whatsapp = ["+55 71 90000-0000"]

[category."Batteries"]
email = ["energia@example.com", "compras@example.com"]

[site."WH-SSA-01"]
whatsapp = ["5571911111111"]
"""
)


def _alerts(*rows: tuple[str, str, str, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "material_id": mid,
                "description": f"peça {mid}",
                "severity": sev,
                "message": "Estoque 65 <= PP 141,5",
                "action": "COMPRAR 300 unidades em até 2 dias",
                "detail": "",
                "category": cat,
                "site_id": site,
                "cycle_date": date(2025, 11, 9),
                "stale_warning": "",
            }
            for mid, sev, cat, site in rows
        ]
    )


def test_routing_by_category_site_and_channel_threshold() -> None:
    assert ROUTING.recipients("email", Severity.ALTO, "Batteries", None) == [
        "compras@example.com",
        "energia@example.com",
    ]
    assert ROUTING.recipients("email", Severity.MEDIO, "Batteries", None) == []
    assert ROUTING.recipients("whatsapp", Severity.ALTO, None, "WH-SSA-01") == []
    assert ROUTING.recipients("whatsapp", Severity.CRITICO, None, "WH-SSA-01") == [
        "+55 71 90000-0000",
        "5571911111111",
    ]


def test_routing_rejects_unknown_channels() -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        parse_routing('[default]\nsms = ["123"]')


def test_one_digest_per_channel_and_recipient_most_severe_first() -> None:
    alerts = _alerts(
        ("M1", "ALTO", "Cables", None),
        ("M2", "CRÍTICO", "Batteries", "WH-SSA-01"),
        ("M3", "OK", "Cables", None),
        ("M4", "MÉDIO", "Cables", None),
    )
    digests = {(d.channel, d.recipient): d for d in outbox.plan(alerts, ROUTING, ["email", "whatsapp"], {}, {})}
    assert set(digests) == {
        ("email", "compras@example.com"),
        ("email", "energia@example.com"),
        ("whatsapp", "+55 71 90000-0000"),
        ("whatsapp", "5571911111111"),
    }
    assert digests[("email", "compras@example.com")].material_ids == ["M2", "M1"]
    assert digests[("whatsapp", "5571911111111")].material_ids == ["M2"]
    assert all(d.kind == "alert" for d in digests.values())


def test_a_rerun_of_the_same_day_sends_nothing_twice() -> None:
    alerts = _alerts(("M1", "ALTO", "Cables", None))
    sent = {("M1", "email", "compras@example.com"): Severity.ALTO}
    assert outbox.plan(alerts, ROUTING, ["email"], sent, {}) == []
    # told CRÍTICO this morning, ALTO now: still nothing (severity did not rise)
    assert outbox.plan(alerts, ROUTING, ["email"], {("M1", "email", "compras@example.com"): Severity.CRITICO}, {}) == []


def test_rising_severity_is_an_escalation() -> None:
    alerts = _alerts(("M1", "CRÍTICO", "Cables", None))
    today = {("M1", "email", "compras@example.com"): Severity.ALTO}
    (digest,) = outbox.plan(alerts, ROUTING, ["email"], today, {})
    assert digest.kind == "escalation" and digest.lines[0].escalated_from is Severity.ALTO
    assert "ESCALONAMENTO" in outbox.subject(digest)
    # against yesterday's message too; a repeat of yesterday's severity is today's one alert, not an escalation
    (rose,) = outbox.plan(alerts, ROUTING, ["email"], {}, {("M1", "email", "compras@example.com"): Severity.ALTO})
    assert rose.kind == "escalation"
    (same,) = outbox.plan(alerts, ROUTING, ["email"], {}, {("M1", "email", "compras@example.com"): Severity.CRITICO})
    assert same.kind == "alert"


def test_email_parts_and_the_stale_warning() -> None:
    alerts = _alerts(("M1", "CRÍTICO", "Cables", None)).assign(stale_warning="ATENÇÃO: dados desatualizados")
    (digest,) = outbox.plan(alerts, ROUTING, ["email"], {}, {})
    text, html = outbox.email_text(digest), outbox.email_html(digest)
    assert "Estoque 65 <= PP 141,5" in text and "Ação: COMPRAR 300 unidades em até 2 dias" in text
    assert text.index("ATENÇÃO") < text.index("M1")
    assert "Estoque 65 &lt;= PP 141,5" in html and "ATENÇÃO" in html
    assert outbox.subject(digest) == "[Nova Corrente] Alertas de estoque 09/11/2025: 1 CRÍTICO"
    message = build_message("alertas@example.com", "compras@example.com", outbox.subject(digest), text, html)
    assert message.is_multipart()
    assert [p.get_content_type() for p in message.walk()][1:] == ["text/plain", "text/html"]


def test_whatsapp_text_and_template_payloads() -> None:
    alerts = _alerts(*[(f"M{i}", "CRÍTICO", "Cables", None) for i in range(200)])
    (digest,) = outbox.plan(alerts, ROUTING, ["whatsapp"], {}, {})
    text = outbox.whatsapp_text(digest)
    assert len(text) <= outbox.WHATSAPP_MAX_CHARS and "… e mais" in text
    settings = WhatsAppSettings(token="t", phone_number_id="123")
    body = payload(settings, "+55 (71) 90000-0000", "olá")
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "5571900000000",
        "type": "text",
        "text": {"preview_url": False, "body": "olá"},
    }
    template = payload(WhatsAppSettings(token="t", phone_number_id="1", template="alerta_estoque"), "55", "x")
    assert template["type"] == "template"
    assert template["template"]["language"] == {"code": "pt_BR"}
    assert template["template"]["components"][0]["parameters"] == [{"type": "text", "text": "x"}]


def test_missing_credentials_are_named() -> None:
    assert SmtpSettings(host="").missing == ["NOVA_SMTP_HOST", "NOVA_SMTP_FROM"]
    assert WhatsAppSettings(token="", phone_number_id="1").missing == ["NOVA_WHATSAPP_TOKEN"]
