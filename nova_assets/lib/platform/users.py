"""Users and roles in support.users; passwords hashed with argon2id (argon2-cffi's defaults, RFC 9106)."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from datetime import datetime

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg.rows import class_row

from nova_assets.lib.platform import audit
from nova_assets.lib.platform.errors import Invalid, NotFound
from nova_assets.lib.platform.roles import Role

MIN_PASSWORD_LENGTH = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
_HASHER = PasswordHasher()  # argon2id
_HASHING = threading.BoundedSemaphore(os.cpu_count() or 1)
_STAND_IN_LOCK = threading.Lock()
_stand_in: str | None = None  # see stand_in_hash


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    role: Role
    active: bool
    created_at: datetime
    created_by: str
    disabled_at: datetime | None
    last_login_at: datetime | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))


USER_COLUMNS = "u.user_id, u.username, u.role, u.active, u.created_at, u.created_by, u.disabled_at, u.last_login_at"
_COLUMNS = USER_COLUMNS.replace("u.", "")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"a senha precisa de pelo menos {MIN_PASSWORD_LENGTH} caracteres")


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise Invalid("nome de usuário inválido: 2 a 63 caracteres a-z, 0-9, '.', '_' ou '-'")
    return name


def add_user(
    conn: psycopg.Connection,
    username: str,
    role: Role | str,
    password: str,
    created_by: str,
    actor_id: int | None = None,
    address: str | None = None,
) -> User:
    """Create an active user (audited); raises Invalid when the name is taken or the password too short."""
    name = normalise_username(username)
    check_password(password)
    try:
        role = Role(str(role).upper())
    except ValueError as exc:
        raise Invalid(f"papel inválido {role!r}: VIEWER, ANALYST ou ADMIN") from exc
    try:
        with conn.transaction():
            made = (
                conn.cursor(row_factory=class_row(User))
                .execute(
                    f"INSERT INTO support.users (username, role, password_hash, created_by) VALUES (%s, %s, %s, %s)"
                    f" RETURNING {_COLUMNS}",
                    (name, role.value, _HASHER.hash(password), created_by),
                )
                .fetchone()
            )
            audit.record(
                conn,
                "user_added",
                user_id=actor_id,
                username=created_by,
                address=address,
                target=f"user:{made.username}",
                after={"username": made.username, "role": made.role.value},
            )
            return made
    except psycopg.errors.UniqueViolation as exc:
        raise Invalid(f"o usuário {name} já existe") from exc


def get_user(conn: psycopg.Connection, username: str) -> User:
    cur = conn.cursor(row_factory=class_row(User))
    user = cur.execute(f"SELECT {_COLUMNS} FROM support.users WHERE username = %s", (username.strip().lower(),))
    found = user.fetchone()
    if found is None:
        raise NotFound(f"usuário {username} não existe")
    return found


def list_users(conn: psycopg.Connection) -> list[User]:
    cur = conn.cursor(row_factory=class_row(User))
    return cur.execute(f"SELECT {_COLUMNS} FROM support.users ORDER BY username").fetchall()


def listing(conn: psycopg.Connection, limit: int, offset: int = 0) -> tuple[list[User], int]:
    """One page of the users by name (unique: a stable order) and how many there are."""
    cur = conn.cursor(row_factory=class_row(User))
    rows = cur.execute(
        f"SELECT {_COLUMNS} FROM support.users ORDER BY username LIMIT %s OFFSET %s", (limit, offset)
    ).fetchall()
    return rows, conn.execute("SELECT count(*) FROM support.users").fetchone()[0]


def set_active(
    conn: psycopg.Connection,
    username: str,
    active: bool,
    actor: str,
    actor_id: int | None = None,
    address: str | None = None,
) -> User:
    """Enable or disable a user (audited); disabling revokes every open session at once."""
    with conn.transaction():
        before = get_user(conn, username)
        after = (
            conn.cursor(row_factory=class_row(User))
            .execute(
                f"UPDATE support.users SET active = %s, disabled_at = CASE WHEN %s THEN NULL ELSE now() END"
                f" WHERE user_id = %s RETURNING {_COLUMNS}",
                (active, active, before.user_id),
            )
            .fetchone()
        )
        if not active:
            conn.execute(
                "UPDATE support.sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
                (before.user_id,),
            )
        audit.record(
            conn,
            "user_enabled" if active else "user_disabled",
            user_id=actor_id,
            username=actor,
            address=address,
            target=f"user:{after.username}",
            before={"active": before.active},
            after={"active": after.active},
        )
    return after


@dataclass(frozen=True)
class StoredPassword:
    user_id: int | None  # None: no such user (checked against a stand-in hash all the same)
    password_hash: str | None  # None: no such user
    active: bool


def stored_password(conn: psycopg.Connection, username: str) -> StoredPassword:
    row = conn.execute(
        "SELECT user_id, password_hash, active FROM support.users WHERE username = %s", (username.strip().lower(),)
    ).fetchone()
    return StoredPassword(*row) if row else StoredPassword(None, None, False)


def stand_in_hash() -> str:
    """Verified against when the user does not exist, so an unknown name costs the same time as a wrong
    password. Made once, by the web app as it starts (not at import: every `nova` command imports this
    module, and a hash takes ~0.1 s by design); the lock keeps a burst of first sign-ins to one."""
    global _stand_in
    with _STAND_IN_LOCK:
        if _stand_in is None:
            _stand_in = _HASHER.hash("not a password of anyone")
        return _stand_in


def password_matches(stored: StoredPassword, password: str) -> bool:
    """argon2id verification, CPU- and memory-bound (64 MiB each): at most one per core at a time, and
    with no database connection held, so a burst of logins cannot starve the pool or the memory."""
    with _HASHING:
        try:
            _HASHER.verify(stored.password_hash or stand_in_hash(), password)
        except (VerificationError, InvalidHashError):
            return False
    return stored.user_id is not None and stored.active


def rehash_if_needed(conn: psycopg.Connection, stored: StoredPassword, password: str) -> None:
    """Upgrade the stored hash when argon2's parameters have changed since it was made."""
    if stored.user_id is not None and _HASHER.check_needs_rehash(stored.password_hash):
        with conn.transaction():
            conn.execute(
                "UPDATE support.users SET password_hash = %s WHERE user_id = %s",
                (_HASHER.hash(password), stored.user_id),
            )


def any_admin(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT EXISTS (SELECT 1 FROM support.users WHERE role = 'ADMIN' AND active)").fetchone()[0]
