"""Delivery channels as resources, bound from the settings registry; empty credentials skip a channel."""

from pathlib import Path

import dagster as dg

from nova_assets.defs.resources import secret
from nova_assets.lib.delivery.email import SmtpSettings
from nova_assets.lib.delivery.routing import Routing, load_routing
from nova_assets.lib.delivery.whatsapp import WhatsAppSettings
from nova_assets.settings import PROJECT_ROOT, embedded_defaults, load_settings

_DEFAULTS = embedded_defaults()


class SmtpResource(dg.ConfigurableResource):
    """An SMTP submission server (STARTTLS on 587 by default)."""

    host: str = ""
    port: int = _DEFAULTS.smtp_port
    username: str = ""
    password: str = ""
    sender: str = ""
    security: str = _DEFAULTS.smtp_security

    @property
    def settings(self) -> SmtpSettings:
        return SmtpSettings(
            host=self.host.strip(),
            port=self.port,
            username=self.username,
            password=self.password,
            sender=self.sender.strip(),
            security=self.security.strip().lower() or _DEFAULTS.smtp_security,
        )


class WhatsAppResource(dg.ConfigurableResource):
    """The WhatsApp Business Cloud API (token and phone-number id from Meta's business settings)."""

    token: str = ""
    phone_number_id: str = ""
    api_url: str = _DEFAULTS.whatsapp_api_url
    template: str = ""

    @property
    def settings(self) -> WhatsAppSettings:
        return WhatsAppSettings(
            token=self.token.strip(),
            phone_number_id=self.phone_number_id.strip(),
            api_url=self.api_url.strip(),
            template=self.template.strip(),
        )


class DeliveryConfig(dg.ConfigurableResource):
    """Who receives what (a TOML file) and how often a failed message is tried before it is 'dead'."""

    routing_file: str
    max_attempts: int = _DEFAULTS.delivery_max_attempts

    @property
    def routing(self) -> Routing:
        path = Path(self.routing_file)
        return load_routing(path if path.is_absolute() else PROJECT_ROOT / path)


@dg.definitions
def resources() -> dg.Definitions:
    settings = load_settings()
    return dg.Definitions(
        resources={
            "smtp": SmtpResource(
                host=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_user,
                password=secret(settings, "NOVA_SMTP_PASSWORD"),
                sender=settings.smtp_from,
                security=settings.smtp_security,
            ),
            "whatsapp": WhatsAppResource(
                token=secret(settings, "NOVA_WHATSAPP_TOKEN"),
                phone_number_id=settings.whatsapp_phone_number_id,
                api_url=settings.whatsapp_api_url,
                template=settings.whatsapp_template,
            ),
            "delivery": DeliveryConfig(
                routing_file=str(settings.alert_routing_file),
                max_attempts=settings.delivery_max_attempts,
            ),
        }
    )
