"""Secrets generated at first start into the data folder (mode 0600), never committed, never defaulted."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def ensure_secret(path: Path, n_bytes: int = 32) -> str:
    """The secret stored at `path`, created (URL-safe, `n_bytes` of entropy, mode 0600) when missing."""
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(n_bytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    path.chmod(0o600)
    return value
