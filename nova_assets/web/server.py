"""Start the web app (dashboard + API) with uvicorn: `nova web`, and one of the processes of `nova ui`."""

from __future__ import annotations

import os

import psycopg
import uvicorn

from nova_assets.lib.gold.schema import migrate
from nova_assets.lib.platform import users
from nova_assets.lib.platform.errors import Invalid
from nova_assets.web.app import create_app
from nova_assets.web.config import web_config

FIRST_ADMIN_HELP = (
    "No administrator yet. Create the first one with\n"
    "    .venv/bin/nova users add admin --role ADMIN      (the password is asked on the terminal)\n"
    "or start once with NOVA_ADMIN_USERNAME and NOVA_ADMIN_PASSWORD set (read only while no admin exists)."
)


def bootstrap_admin(owner_url: str, environ: dict[str, str] | os._Environ = os.environ) -> str:
    """Create the first ADMIN from NOVA_ADMIN_USERNAME/NOVA_ADMIN_PASSWORD when none exists; say what happened."""
    with psycopg.connect(owner_url) as conn:
        migrate(conn)
        if users.any_admin(conn):
            return "Sign in with an existing user (`nova users list`)."
        name, password = environ.get("NOVA_ADMIN_USERNAME"), environ.get("NOVA_ADMIN_PASSWORD")
        if not (name and password):
            return FIRST_ADMIN_HELP
        try:
            users.add_user(conn, name, users.Role.ADMIN, password, created_by="NOVA_ADMIN_USERNAME")
        except Invalid as exc:
            return f"NOVA_ADMIN_USERNAME/NOVA_ADMIN_PASSWORD not used: {exc}\n{FIRST_ADMIN_HELP}"
        conn.commit()
        return f"Administrator {name} created from NOVA_ADMIN_USERNAME/NOVA_ADMIN_PASSWORD (unset them now)."


def serve(settings: dict[str, str]) -> None:
    host, port = settings["NOVA_WEB_HOST"], int(settings["NOVA_WEB_PORT"])
    config = web_config(settings)
    print(f"Nova Corrente web app: http://{host}:{port}/  (API http://{host}:{port}/api/v1, docs /docs)", flush=True)
    print(bootstrap_admin(settings["NOVA_POSTGRES_URL"]), flush=True)
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", server_header=False)


def main() -> None:
    """Run from `nova ui` with the resolved settings in the environment."""
    from nova_assets.services.local_stack import embedded_settings

    serve({**embedded_settings(), "NOVA_POSTGRES_URL": os.environ["NOVA_POSTGRES_URL"]})


if __name__ == "__main__":
    main()
