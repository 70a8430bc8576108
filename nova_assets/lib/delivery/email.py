"""E-mail through SMTP (stdlib): a text part, an HTML alternative and an optional PDF attachment."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from nova_assets.lib.delivery.errors import DeliveryError

AUTH_CODES = {530, 534, 535}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str = ""
    password: str = ""
    sender: str = ""
    security: str = "starttls"  # starttls | ssl | none (a local relay)
    timeout_s: float = 30.0

    @property
    def missing(self) -> list[str]:
        """Settings without which the channel is skipped."""
        return [name for name, value in (("NOVA_SMTP_HOST", self.host), ("NOVA_SMTP_FROM", self.sender)) if not value]


def build_message(
    sender: str, recipient: str, subject: str, text: str, html: str, attachment: Path | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or None)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if attachment is not None and attachment.exists():
        message.add_attachment(attachment.read_bytes(), maintype="application", subtype="pdf", filename=attachment.name)
    return message


def send(settings: SmtpSettings, message: EmailMessage) -> str:
    """Hand the message to the SMTP server; return its Message-ID. Connection problems, timeouts,
    4xx answers and authentication failures (fixable settings) are retryable; any other 5xx
    refusal (a bad address) is not."""
    try:
        if settings.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout_s, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password)
            refused = smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        retry = exc.smtp_code < 500 or exc.smtp_code in AUTH_CODES
        raise DeliveryError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", retryable=retry) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"SMTP refused recipients {list(exc.recipients)}", retryable=False) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP {type(exc).__name__}: {exc}", retryable=True) from exc
    if refused:
        raise DeliveryError(f"SMTP refused {sorted(refused)}", retryable=False)
    return str(message["Message-ID"])
