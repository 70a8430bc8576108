"""What the web app needs to start, resolved from the project's settings (nova_assets/settings.py)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from nova_assets.lib.platform.database import prepare_api_role
from nova_assets.lib.platform.secrets_file import ensure_secret
from nova_assets.lib.platform.sessions import LoginLimits
from nova_assets.lib.sample import is_synthetic
from nova_assets.lib.sources.erp_store import NO_FILES, ErpProvenance, ErpStore
from nova_assets.lib.sources.landing import MANIFEST
from nova_assets.settings import Settings

log = logging.getLogger("nova.web")
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
    landing_dir: Path | None = None
    lake_dir: Path | None = None
    version: str = field(default_factory=app_version)
    pool_size: int = 40  # database connections = request worker threads (see app.lifespan)

    @property
    def synthetic_share(self) -> tuple[int, int] | None:
        """When the pages must say SYNTHETIC (ErpProvenance.synthetic_share); the landing folder's marker
        alone when the ERP store cannot be read."""
        erp = (_erp_provenance(self.lake_dir) if self.lake_dir else None) or NO_FILES
        return erp.synthetic_share(bool(self.landing_dir and is_synthetic(self.landing_dir)))


def _erp_provenance(lake_dir: Path) -> ErpProvenance | None:
    """None when the store cannot be read (none yet, no lake mounted, an unreadable manifest): the
    landing folder's marker decides then, and no page fails over a banner."""
    store = ErpStore.in_lake(lake_dir)
    try:
        state = (store.root / MANIFEST).stat()
        return _read_provenance(store.root, (state.st_mtime_ns, state.st_size, state.st_ino))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        log.warning("the ERP store's manifest could not be read for the SYNTHETIC banner: %s", error)
        return None


@functools.lru_cache(maxsize=4)
def _read_provenance(store_root: Path, version: tuple[int, int, int]) -> ErpProvenance:
    """Read once per change of the store's manifest (`version`), not on every page."""
    return ErpStore(store_root).provenance()


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
    )
