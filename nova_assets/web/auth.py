"""Who is calling: a Bearer token (API clients) or the dashboard's HttpOnly cookie, checked against the
server-side session; role checks; CSRF on cookie-authenticated writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

import psycopg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from nova_assets.lib.platform.errors import Forbidden, Unauthorized
from nova_assets.lib.platform.sessions import Session, TokenService
from nova_assets.lib.platform.users import Role, User

SESSION_COOKIE = "nova_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Declares the Bearer scheme in the OpenAPI document (Swagger UI's Authorize button, and every protected
# operation lists it); auto_error=False: a missing token is ours to answer (401 below), or the cookie's.
BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="JWT",
    description="the access_token of POST /api/v1/auth/login",
    auto_error=False,
)


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


def _token(request: Request, bearer: HTTPAuthorizationCredentials | None) -> tuple[str | None, bool]:
    """The Bearer token of an API client, else the dashboard's session cookie (then via_cookie)."""
    if bearer is not None:
        return bearer.credentials.strip(), False
    return request.cookies.get(SESSION_COOKIE), True


def principal(
    request: Request,
    conn: Annotated[psycopg.Connection, Depends(connection)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> Principal:
    token, via_cookie = _token(request, bearer)
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
