"""The gold database's connection settings, split for tools that want parts (dbt's profile)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

# Environment variables read by dbt_project/gold/profiles.yml.
DBT_ENV = ("NOVA_GOLD_PG_HOST", "NOVA_GOLD_PG_PORT", "NOVA_GOLD_PG_USER", "NOVA_GOLD_PG_PASSWORD", "NOVA_GOLD_PG_DB")


def dbt_environment(url: str) -> dict[str, str]:
    """NOVA_GOLD_PG_* from a postgresql:// URL, so NOVA_POSTGRES_URL stays the one setting."""
    parts = urlsplit(url)
    if parts.scheme.split("+", 1)[0] not in {"postgresql", "postgres"}:
        raise ValueError(f"not a PostgreSQL URL (scheme {parts.scheme!r})")
    values = (
        parts.hostname or "127.0.0.1",
        str(parts.port or 5432),
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        unquote(parts.path.lstrip("/")) or "postgres",
    )
    return dict(zip(DBT_ENV, values, strict=True))


def redact_url(url: str) -> str:
    """The URL without its user, password and query (libpq and SQLAlchemy take `?password=` too), fit for
    logs, error messages and `nova settings`."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    rest, query, _ = rest.partition("?")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}://{rest}{'?***' if query else ''}"


def connection_failure(setting: str, url: str, error: object) -> str:
    """Why `url` (the value of `setting`) cannot be used: the server and the cause, never the password."""
    parts = urlsplit(url)
    missing = " (the URL names a user but no password)" if parts.username and not parts.password else ""
    return f"{setting}={redact_url(url)}{missing}: {str(error).strip()}"
