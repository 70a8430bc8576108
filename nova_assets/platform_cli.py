"""`nova users add|disable|enable|list` and `nova web`: the platform's commands (hooked into cli.py)."""

from __future__ import annotations

import argparse
import getpass
import sys

from nova_assets.lib.platform.errors import PlatformError
from nova_assets.lib.platform.roles import Role


def read_password(prompt: str = "Password: ") -> str:
    """From the terminal (asked twice), or the first line of standard input when it is not a terminal."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        raise PlatformError("the two passwords differ")
    return first


def _gold_url() -> str:
    from nova_assets.services.local_stack import bring_up

    return bring_up()["NOVA_POSTGRES_URL"]


def cmd_users(args: argparse.Namespace) -> int:
    # here, not at the top: every `nova` command imports this module
    import psycopg

    from nova_assets.lib.gold.schema import migrate
    from nova_assets.lib.platform import users

    try:
        with psycopg.connect(_gold_url()) as conn:
            migrate(conn)
            if args.action == "add":
                made = users.add_user(conn, args.username, args.role, read_password(), created_by="cli")
                print(f"user {made.username} created with role {made.role}")
            elif args.action in {"disable", "enable"}:
                after = users.set_active(conn, args.username, args.action == "enable", actor="cli")
                state = "enabled" if after.active else "disabled (its sessions ended)"
                print(f"user {after.username} {state}")
            else:
                print(f"{'username':<24} {'role':<8} {'active':<7} {'created':<20} last login")
                for user in users.list_users(conn):
                    last = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "-"
                    created = user.created_at.strftime("%Y-%m-%d %H:%M")
                    active = "yes" if user.active else "no"
                    print(f"{user.username:<24} {user.role:<8} {active:<7} {created:<20} {last}")
            conn.commit()
    except PlatformError as exc:
        print(f"nova users: error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from nova_assets.services.local_stack import bring_up
    from nova_assets.settings import load_settings
    from nova_assets.web.server import serve

    serve(load_settings(bring_up()))
    return 0


def add_platform_commands(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("users", help="manage the web app's users (support.users)")
    actions = group.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create a user; the password is read from standard input")
    add.add_argument("username")
    add.add_argument("--role", required=True, type=str.upper, choices=[r.value for r in Role])
    for name, text in (("disable", "disable a user and end its sessions"), ("enable", "enable a user again")):
        action = actions.add_parser(name, help=text)
        action.add_argument("username")
    actions.add_parser("list", help="list the users")
    group.set_defaults(func=cmd_users)

    web = sub.add_parser("web", help="serve the dashboard and the API only (make ui starts it with the other UIs)")
    web.set_defaults(func=cmd_web)
