"""The one HTTP policy of all connectors: timeout, retries with exponential backoff, clear errors.

Public APIs of the Brazilian government are often slow or briefly down (5xx, dropped connections),
so transient failures are retried; anything else (4xx, empty or non-JSON bodies) is a definite
answer and becomes a `SourceUnavailable` right away. Error messages never contain the URL, because
some paths carry secrets (the INMET token).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from nova_assets.lib.sources.http_policy import DEFAULT_POLICY, HttpPolicy
from nova_assets.lib.sources.snapshots import SourceUnavailable


class HttpStatusError(SourceUnavailable):
    """The server answered with a non-retryable status (4xx); keeps the body for source-specific messages."""

    def __init__(self, label: str, status_code: int, body: bytes) -> None:
        super().__init__(f"{label}: HTTP {status_code}: {_excerpt(body)}")
        self.status_code = status_code
        self.body = body


class MalformedResponse(SourceUnavailable):
    """The server answered 2xx but the body is not the JSON the API promises."""

    def __init__(self, label: str, body: bytes, reason: str) -> None:
        super().__init__(f"{label}: {reason}: {_excerpt(body)}")
        self.body = body


class _ServerError(Exception):
    """A 5xx answer: worth another try."""


def get_json(
    client_or_base_url: httpx.Client | str,
    path: str,
    *,
    label: str,
    params: Mapping[str, str] | None = None,
    policy: HttpPolicy = DEFAULT_POLICY,
) -> tuple[bytes, Any]:
    """GET `path` and return the raw body with its decoded JSON, retrying transient failures.

    The raw bytes are what goes to bronze and to the parsers; the decoded value lets callers check
    the shape without decoding twice.
    """
    if isinstance(client_or_base_url, httpx.Client):
        body = _get_with_retries(client_or_base_url, path, label, params, policy)
    else:
        with httpx.Client(base_url=client_or_base_url, timeout=policy.timeout_s) as client:
            body = _get_with_retries(client, path, label, params, policy)
    if not body.strip():
        raise MalformedResponse(label, body, "empty response body")
    try:
        return body, json.loads(body)
    except ValueError as exc:
        raise MalformedResponse(label, body, f"response is not JSON ({exc})") from exc


def _get_with_retries(
    client: httpx.Client,
    path: str,
    label: str,
    params: Mapping[str, str] | None,
    policy: HttpPolicy,
) -> bytes:
    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential(multiplier=policy.backoff_initial_s, max=policy.backoff_max_s),
        retry=retry_if_exception_type((httpx.TransportError, _ServerError)),
    )
    try:
        response = retrying(_get_once, client, path, params, policy.timeout_s)
    except RetryError as exc:
        last = exc.last_attempt.exception()
        reason = f"{type(last).__name__}: {last}" if isinstance(last, httpx.TransportError) else str(last)
        raise SourceUnavailable(f"{label}: failed after {policy.attempts} attempts: {reason}") from last
    if response.status_code >= 400:
        raise HttpStatusError(label, response.status_code, response.content)
    return response.content


def _get_once(client: httpx.Client, path: str, params: Mapping[str, str] | None, timeout_s: float) -> httpx.Response:
    response = client.get(path, params=params, timeout=timeout_s)
    if response.status_code >= 500:
        raise _ServerError(f"HTTP {response.status_code}: {_excerpt(response.content)}")
    return response


def _excerpt(body: bytes, limit: int = 300) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    return repr(text if len(text) <= limit else text[:limit] + "…")
