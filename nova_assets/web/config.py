"""What the web app needs to start, resolved from the project's settings (nova_assets/settings.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from nova_assets.lib.platform.database import prepare_api_role
from nova_assets.lib.platform.overrides import MAX_VALUE, Maximum, max_values
from nova_assets.lib.platform.secrets_file import ensure_secret
from nova_assets.lib.platform.sessions import LoginLimits
from nova_assets.lib.sources.erp_limits import ErpLimits, parse_limits
from nova_assets.settings import Settings

JWT_SECRET_FILE = "jwt_signing_key"
API_PASSWORD_FILE = "api_db.password"


def app_version() -> str:
    try:
        return version("nova-corrente")
    except PackageNotFoundError:
        return "dev"


@dataclass(frozen=True)
class WebConfig:
    api_database_url: str
    jwt_secret: str
    token_ttl: timedelta
    login_limits: LoginLimits
    mlflow_ui_url: str
    order_cost_brl: float  # the calculators' defaults: the cycle's own EOQ inputs (NOVA_ORDER_COST_BRL, ...)
    holding_cost_rate: float
    cors_origins: tuple[str, ...] = ()
    secure_cookies: bool = False
    # the SYNTHETIC banner's sources until a cycle has loaded analytics.data_provenance (web/data_label.py)
    landing_dir: Path | None = None
    lake_dir: Path | None = None
    version: str = field(default_factory=app_version)
    pool_size: int = 40  # database connections = request worker threads (see app.lifespan)
    override_maximum: Maximum = field(default_factory=lambda: MAX_VALUE)  # under NOVA_ERP_PLAUSIBLE_LIMITS


def web_config(settings: Settings) -> WebConfig:
    """Secrets generated on first start into NOVA_WEB_DIR (mode 0600); the API role prepared unless
    NOVA_API_POSTGRES_URL names a login of its own."""
    web_dir: Path = settings.web_dir
    api_url = settings.api_postgres_url or prepare_api_role(
        settings.postgres_url, ensure_secret(web_dir / API_PASSWORD_FILE)
    )
    window = timedelta(minutes=settings.login_window_minutes)
    return WebConfig(
        api_database_url=api_url,
        jwt_secret=ensure_secret(web_dir / JWT_SECRET_FILE, 48),
        token_ttl=timedelta(minutes=settings.jwt_ttl_minutes),
        login_limits=LoginLimits(per_user=settings.login_max_failures, window=window),
        cors_origins=tuple(o.strip() for o in settings.web_cors_origins.split(",") if o.strip()),
        secure_cookies=settings.web_secure_cookies,
        landing_dir=settings.landing_dir,
        lake_dir=settings.lake_dir,
        mlflow_ui_url=settings.mlflow_ui_url,
        order_cost_brl=settings.order_cost_brl,
        holding_cost_rate=settings.holding_cost_rate,
        override_maximum=max_values(ErpLimits(plausible_limits=parse_limits(settings.erp_plausible_limits))),
    )
