"""What the web app needs to start, resolved from the project's settings (services/local_stack.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from nova_assets.lib.platform.database import prepare_api_role
from nova_assets.lib.platform.secrets_file import ensure_secret
from nova_assets.lib.platform.sessions import LoginLimits

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
    token_ttl: timedelta = timedelta(minutes=30)
    login_limits: LoginLimits = field(default_factory=LoginLimits)
    cors_origins: tuple[str, ...] = ()
    secure_cookies: bool = False
    landing_dir: Path | None = None
    mlflow_ui_url: str = "http://127.0.0.1:5000"
    version: str = field(default_factory=app_version)
    pool_size: int = 40  # database connections = request worker threads (see app.lifespan)

    @property
    def synthetic_data(self) -> bool:
        return bool(self.landing_dir and (self.landing_dir / "SYNTHETIC_DATA.txt").exists())


def web_config(settings: dict[str, str]) -> WebConfig:
    """Secrets generated on first start into NOVA_WEB_DIR (mode 0600); the API role prepared unless
    NOVA_API_POSTGRES_URL names a login of its own."""
    web_dir = Path(settings["NOVA_WEB_DIR"])
    api_url = settings.get("NOVA_API_POSTGRES_URL") or prepare_api_role(
        settings["NOVA_POSTGRES_URL"], ensure_secret(web_dir / API_PASSWORD_FILE)
    )
    window = timedelta(minutes=int(settings["NOVA_LOGIN_WINDOW_MINUTES"]))
    return WebConfig(
        api_database_url=api_url,
        jwt_secret=ensure_secret(web_dir / JWT_SECRET_FILE, 48),
        token_ttl=timedelta(minutes=int(settings["NOVA_JWT_TTL_MINUTES"])),
        login_limits=LoginLimits(per_user=int(settings["NOVA_LOGIN_MAX_FAILURES"]), window=window),
        cors_origins=tuple(o.strip() for o in settings["NOVA_WEB_CORS_ORIGINS"].split(",") if o.strip()),
        secure_cookies=settings["NOVA_WEB_SECURE_COOKIES"].strip() in {"1", "true", "yes"},
        landing_dir=Path(settings["NOVA_LANDING_DIR"]),
        mlflow_ui_url=settings["NOVA_MLFLOW_UI_URL"],
    )
