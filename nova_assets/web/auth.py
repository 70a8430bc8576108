"""Who is calling: a Bearer token (API clients) or the dashboard's HttpOnly cookie, checked against the
server-side session; role checks; CSRF on cookie-authenticated writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

import psycopg
from fastapi import Depends, Request

from nova_assets.lib.platform.errors import Forbidden, Unauthorized
from nova_assets.lib.platform.sessions import Session, TokenService
from nova_assets.lib.platform.users import Role, User

SESSION_COOKIE = "nova_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    session: Session
    via_cookie: bool
    csrf_token: str

    @property
    def user(self) -> User:
        return self.session.user


def connection(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection of the API role for the request."""
    with request.app.state.pool.connection() as conn:
        yield conn


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _token(request: Request) -> tuple[str | None, bool]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    return request.cookies.get(SESSION_COOKIE), True


def principal(request: Request, conn: Annotated[psycopg.Connection, Depends(connection)]) -> Principal:
    token, via_cookie = _token(request)
    if not token:
        raise Unauthorized("autenticação necessária")
    tokens: TokenService = request.app.state.tokens
    session = tokens.verify(conn, token)
    csrf = tokens.csrf_token(session.jti)
    # A browser sends the cookie by itself: a write it carries must also prove it comes from our pages.
    if (
        via_cookie
        and request.method not in SAFE_METHODS
        and request.url.path.startswith("/api/")
        and not tokens.check_csrf(session.jti, request.headers.get(CSRF_HEADER))
    ):
        raise Forbidden("token CSRF ausente ou inválido")
    request.state.principal = Principal(session, via_cookie, csrf)
    return request.state.principal


def require(role: Role) -> Callable[..., Principal]:
    """Dependency: a valid session whose role is at least `role`."""

    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.user.role.allows(role):
            raise Forbidden(f"o papel {who.user.role} não permite esta ação (requer {role})")
        return who

    return check


viewer = require(Role.VIEWER)
analyst = require(Role.ANALYST)
admin = require(Role.ADMIN)


Conn = Annotated[psycopg.Connection, Depends(connection)]
AnyUser = Annotated[Principal, Depends(principal)]
Viewer = Annotated[Principal, Depends(viewer)]
Analyst = Annotated[Principal, Depends(analyst)]
Admin = Annotated[Principal, Depends(admin)]
