"""WhatsApp Business Cloud API: POST {api}/{phone-number-id}/messages with a bearer token.

Free text reaches a number only inside its 24-hour customer-service window; outside it Meta
requires an approved template. With NOVA_WHATSAPP_TEMPLATE set, the digest goes as that
template's single body parameter; otherwise as a text message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from nova_assets.lib.delivery.errors import DeliveryError

RETRY_LATER = {401, 403, 429}  # token or rate limit: fixable, keep the message for a later try
TEMPLATE_PARAM_MAX = 1024


@dataclass(frozen=True)
class WhatsAppSettings:
    token: str
    phone_number_id: str
    api_url: str = "https://graph.facebook.com/v21.0"
    template: str = ""
    language: str = "pt_BR"
    timeout_s: float = 20.0
    attempts: int = 3
    backoff_s: float = 1.0

    @property
    def missing(self) -> list[str]:
        return [
            name
            for name, value in (
                ("NOVA_WHATSAPP_TOKEN", self.token),
                ("NOVA_WHATSAPP_PHONE_NUMBER_ID", self.phone_number_id),
            )
            if not value
        ]


def payload(settings: WhatsAppSettings, to: str, body: str) -> dict[str, Any]:
    """The Cloud API message object for one recipient (digits only, country code first)."""
    number = "".join(ch for ch in to if ch.isdigit())
    if settings.template:
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": number,
            "type": "template",
            "template": {
                "name": settings.template,
                "language": {"code": settings.language},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": body[:TEMPLATE_PARAM_MAX]}]}],
            },
        }
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": number,
        "type": "text",
        "text": {"preview_url": False, "body": body},
    }


class _Transient(Exception):
    """5xx or a dropped connection: worth another immediate try."""


def send(settings: WhatsAppSettings, message: dict[str, Any], client: httpx.Client | None = None) -> str:
    """POST the message; return the WhatsApp message id ('wamid...'). The token never appears in errors."""
    url = f"{settings.api_url.rstrip('/')}/{settings.phone_number_id}/messages"
    headers = {"Authorization": f"Bearer {settings.token}", "Content-Type": "application/json"}
    own = client is None
    http = client or httpx.Client(timeout=settings.timeout_s)
    try:
        for attempt in Retrying(
            stop=stop_after_attempt(settings.attempts),
            wait=wait_exponential(multiplier=settings.backoff_s, max=10 * settings.backoff_s),
            retry=retry_if_exception(lambda e: isinstance(e, _Transient)),
            reraise=True,
        ):
            with attempt:
                try:
                    response = http.post(url, json=message, headers=headers)
                except httpx.HTTPError as exc:
                    raise _Transient(f"{type(exc).__name__}") from exc
                if response.status_code >= 500:
                    raise _Transient(f"HTTP {response.status_code}")
    except _Transient as exc:
        raise DeliveryError(f"WhatsApp API unavailable: {exc}", retryable=True) from exc
    finally:
        if own:
            http.close()
    if response.status_code >= 400:
        error = _error_text(response)
        raise DeliveryError(
            f"WhatsApp API HTTP {response.status_code}: {error}", retryable=response.status_code in RETRY_LATER
        )
    try:
        return str(response.json()["messages"][0]["id"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        # Accepted but unreadable: resending could deliver it twice, so it is not retried.
        raise DeliveryError(
            f"WhatsApp API answered without a message id: {response.text[:200]}", retryable=False
        ) from exc


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error.get('code')} {error.get('type', '')}: {error.get('message', '')}".strip()
    except (ValueError, KeyError, TypeError):
        return response.text[:200]
