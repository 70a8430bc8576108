"""The web app's roles, apart from the users' store (`users`: psycopg, argon2) so that `nova users add
--role` lists them without importing either."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """VIEWER reads; ANALYST also acknowledges alerts, overrides and exports; ADMIN also manages users."""

    VIEWER = "VIEWER"
    ANALYST = "ANALYST"
    ADMIN = "ADMIN"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank
