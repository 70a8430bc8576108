"""Delivery channels as resources, every setting from an env var; empty credentials skip a channel."""

from pathlib import Path

import dagster as dg

from nova_assets.lib.delivery.email import SmtpSettings
from nova_assets.lib.delivery.routing import Routing, load_routing
from nova_assets.lib.delivery.whatsapp import WhatsAppSettings
from nova_assets.services.local_stack import PROJECT_ROOT


class SmtpResource(dg.ConfigurableResource):
    """An SMTP submission server (STARTTLS on 587 by default)."""

    host: str = ""
    port: str = "587"
    username: str = ""
    password: str = ""
    sender: str = ""
    security: str = "starttls"

    @property
    def settings(self) -> SmtpSettings:
        return SmtpSettings(
            host=self.host.strip(),
            port=int(self.port or 587),
            username=self.username,
            password=self.password,
            sender=self.sender.strip(),
            security=self.security.strip().lower() or "starttls",
        )


class WhatsAppResource(dg.ConfigurableResource):
    """The WhatsApp Business Cloud API (token and phone-number id from Meta's business settings)."""

    token: str = ""
    phone_number_id: str = ""
    api_url: str = "https://graph.facebook.com/v21.0"
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
    max_attempts: str = "8"

    @property
    def routing(self) -> Routing:
        path = Path(self.routing_file)
        return load_routing(path if path.is_absolute() else PROJECT_ROOT / path)


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "smtp": SmtpResource(
                host=dg.EnvVar("NOVA_SMTP_HOST"),
                port=dg.EnvVar("NOVA_SMTP_PORT"),
                username=dg.EnvVar("NOVA_SMTP_USER"),
                password=dg.EnvVar("NOVA_SMTP_PASSWORD"),
                sender=dg.EnvVar("NOVA_SMTP_FROM"),
                security=dg.EnvVar("NOVA_SMTP_SECURITY"),
            ),
            "whatsapp": WhatsAppResource(
                token=dg.EnvVar("NOVA_WHATSAPP_TOKEN"),
                phone_number_id=dg.EnvVar("NOVA_WHATSAPP_PHONE_NUMBER_ID"),
                api_url=dg.EnvVar("NOVA_WHATSAPP_API_URL"),
                template=dg.EnvVar("NOVA_WHATSAPP_TEMPLATE"),
            ),
            "delivery": DeliveryConfig(
                routing_file=dg.EnvVar("NOVA_ALERT_ROUTING_FILE"),
                max_attempts=dg.EnvVar("NOVA_DELIVERY_MAX_ATTEMPTS"),
            ),
        }
    )
