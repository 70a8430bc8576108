"""Sign-in checks that need no database: an unknown name and the stand-in hash it is verified against."""

from __future__ import annotations

import threading
import time

import pytest
from argon2 import PasswordHasher

from nova_assets.lib.platform import users


class _CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__()
        self.hashes = 0

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashes += 1
        time.sleep(0.05)  # a slow hash, so that concurrent first sign-ins overlap
        return super().hash(password, salt=salt)


def test_a_burst_of_first_sign_ins_makes_one_stand_in_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = _CountingHasher()
    monkeypatch.setattr(users, "_HASHER", hasher)
    monkeypatch.setattr(users, "_stand_in", None)
    start = threading.Barrier(8)

    def sign_in() -> None:
        start.wait()
        assert not users.password_matches(users.StoredPassword(None, None, False), "any password at all")

    threads = [threading.Thread(target=sign_in) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert hasher.hashes == 1


def test_an_unknown_name_is_refused_even_with_the_stand_ins_own_password() -> None:
    assert not users.password_matches(users.StoredPassword(None, None, False), "not a password of anyone")
