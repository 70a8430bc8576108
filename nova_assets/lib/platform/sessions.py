"""Sign-in: short-lived signed JWTs (PyJWT, HS256) backed by a server-side session row, so that
logout and disabling a user end the token at once; failed logins rate-limited per user and address."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
import psycopg

from nova_assets.lib.platform import audit
from nova_assets.lib.platform.errors import Throttled, Unauthorized
from nova_assets.lib.platform.users import (
    USER_COLUMNS,
    User,
    get_user,
    password_matches,
    rehash_if_needed,
    stored_password,
)

ALGORITHM = "HS256"
ISSUER = "nova-corrente"
AUDIENCE = "nova-corrente-api"


@dataclass(frozen=True)
class LoginLimits:
    """At most `per_user` failed logins of one name from one address, and `per_address` from one
    address overall, within `window`; past them the login is refused before the password is checked."""

    per_user: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime
    user: User


@dataclass(frozen=True)
class Session:
    jti: str
    user: User
    expires_at: datetime


class TokenService:
    """Issues and checks access tokens. `secret` signs them (generated into the data folder)."""

    def __init__(self, secret: str, ttl: timedelta) -> None:
        if len(secret) < 32:
            raise ValueError("the JWT signing secret must be at least 32 characters")
        self._key = secret.encode()
        self.ttl = ttl

    def issue(self, conn: psycopg.Connection, user: User, address: str | None) -> IssuedToken:
        now = datetime.now(UTC).replace(microsecond=0)
        expires = now + self.ttl
        jti = secrets.token_urlsafe(24)
        claims = {
            "sub": str(user.user_id),
            "role": user.role.value,
            "jti": jti,
            "iat": now,
            "nbf": now,
            "exp": expires,
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM)
        with conn.transaction():
            conn.execute(
                "INSERT INTO support.sessions (jti, user_id, issued_at, expires_at, address)"
                " VALUES (%s, %s, %s, %s, %s)",
                (jti, user.user_id, now, expires, address),
            )
            conn.execute("UPDATE support.users SET last_login_at = %s WHERE user_id = %s", (now, user.user_id))
        return IssuedToken(token, jti, expires, user)

    def verify(self, conn: psycopg.Connection, token: str) -> Session:
        """The session of a valid token: signature (HS256 only), expiry, issuer, audience, and a live
        session row of an active user. Raises Unauthorized otherwise (one message for every cause)."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                audience=AUDIENCE,
                options={"require": ["exp", "iat", "jti", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("sessão inválida ou expirada") from exc
        found = conn.execute(
            f"SELECT {USER_COLUMNS}, s.expires_at FROM support.sessions s JOIN support.users u USING (user_id)"
            " WHERE s.jti = %s AND s.user_id = %s AND s.revoked_at IS NULL AND s.expires_at > now() AND u.active",
            (claims["jti"], int(claims["sub"])),
        ).fetchone()
        if found is None:
            raise Unauthorized("sessão inválida ou expirada")
        return Session(claims["jti"], User(*found[:-1]), found[-1])

    def revoke(self, conn: psycopg.Connection, jti: str) -> None:
        with conn.transaction():
            conn.execute("UPDATE support.sessions SET revoked_at = now() WHERE jti = %s AND revoked_at IS NULL", (jti,))

    def csrf_token(self, jti: str) -> str:
        """The CSRF token of a session: bound to it, so a token from another session never matches."""
        return hmac.new(self._key, b"csrf:" + jti.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, jti: str, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf_token(jti), presented)


def login(
    connect: Callable[[], AbstractContextManager[psycopg.Connection]],
    tokens: TokenService,
    username: str,
    password: str,
    address: str | None,
    limits: LoginLimits,
) -> IssuedToken:
    """Check the rate limits, then the password (holding no connection while argon2 works); audit the
    outcome; issue a token. `connect()` lends a connection (the web app's pool)."""
    name = username.strip().lower()[:200]
    since = datetime.now(UTC) - limits.window
    with connect() as conn:
        per_user, per_address = conn.execute(
            "SELECT count(*) FILTER (WHERE username = %s), count(*) FROM support.audit_log"
            " WHERE action = 'login_failed' AND address IS NOT DISTINCT FROM %s AND at > %s",
            (name, address, since),
        ).fetchone()
        if per_user >= limits.per_user or per_address >= limits.per_address:
            audit.record(conn, "login_throttled", outcome="refused", username=name, address=address)
            minutes = int(limits.window.total_seconds() // 60)
            raise Throttled(f"muitas tentativas de acesso falhas; tente de novo em até {minutes} minutos")
        stored = stored_password(conn, name)
    matches = password_matches(stored, password)
    with connect() as conn:
        if not matches:
            audit.record(conn, "login_failed", outcome="failed", username=name, address=address)
            raise Unauthorized("usuário ou senha incorretos")
        rehash_if_needed(conn, stored, password)
        user = get_user(conn, name)
        issued = tokens.issue(conn, user, address)
        audit.record(
            conn, "login", user_id=user.user_id, username=user.username, address=address, detail={"jti": issued.jti}
        )
    return issued


def logout(conn: psycopg.Connection, tokens: TokenService, session: Session, address: str | None) -> None:
    tokens.revoke(conn, session.jti)
    audit.record(
        conn,
        "logout",
        user_id=session.user.user_id,
        username=session.user.username,
        address=address,
        detail={"jti": session.jti},
    )
