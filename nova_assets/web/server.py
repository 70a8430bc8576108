"""Start the web app (dashboard + API) with uvicorn: `nova web`, and one of the processes of `nova ui`."""

from __future__ import annotations

import psycopg
import uvicorn

from nova_assets.lib.gold.schema import migrate
from nova_assets.lib.platform import users
from nova_assets.lib.platform.errors import Invalid
from nova_assets.settings import Settings, load_settings
from nova_assets.web.app import create_app
from nova_assets.web.config import web_config

FIRST_ADMIN_HELP = (
    "No administrator yet. Create the first one with\n"
    "    .venv/bin/nova users add admin --role ADMIN      (the password is asked on the terminal)\n"
    "or start once with NOVA_ADMIN_USERNAME and NOVA_ADMIN_PASSWORD set (read only while no admin exists)."
)


def bootstrap_admin(owner_url: str, username: str, password: str) -> str:
    """Create the first ADMIN from NOVA_ADMIN_USERNAME/NOVA_ADMIN_PASSWORD when none exists; say what happened."""
    with psycopg.connect(owner_url) as conn:
        migrate(conn)
        if users.any_admin(conn):
            return "Sign in with an existing user (`nova users list`)."
        if not (username and password):
            return FIRST_ADMIN_HELP
        try:
            users.add_user(conn, username, users.Role.ADMIN, password, created_by="NOVA_ADMIN_USERNAME")
        except Invalid as exc:
            return f"NOVA_ADMIN_USERNAME/NOVA_ADMIN_PASSWORD not used: {exc}\n{FIRST_ADMIN_HELP}"
        conn.commit()
        return f"Administrator {username} created from NOVA_ADMIN_USERNAME/NOVA_ADMIN_PASSWORD (unset them now)."


def serve(settings: Settings) -> None:
    """Serve with the resolved settings; NOVA_POSTGRES_URL must name the running gold database."""
    if not settings.postgres_url:
        raise SystemExit("nova web: NOVA_POSTGRES_URL is not set; start the web app with `nova ui` or `nova web`")
    host, port = settings.web_host, settings.web_port
    config = web_config(settings)
    print(f"Nova Corrente web app: http://{host}:{port}/  (API /api/v1, docs /docs)", flush=True)
    print(bootstrap_admin(settings.postgres_url, settings.admin_username, settings.admin_password), flush=True)
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", server_header=False)


def main() -> None:
    """Run from `nova ui`, with the settings `nova` resolved in the environment."""
    serve(load_settings())


if __name__ == "__main__":
    main()
