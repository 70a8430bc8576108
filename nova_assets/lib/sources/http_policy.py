"""The HTTP policy of the live connectors (timeout, attempts, backoff) and its defaults, the defaults
of the NOVA_HTTP_* settings; apart from the client (nova_assets.lib.sources.http_client, httpx) so
that reading the settings does not import it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HttpPolicy:
    """How long to wait for one answer and how often to try again."""

    timeout_s: float = 30.0
    attempts: int = 4
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0


DEFAULT_POLICY = HttpPolicy()
