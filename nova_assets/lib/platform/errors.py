"""Errors the platform's domain raises; the web layer maps each to one HTTP status and a plain message."""

from __future__ import annotations


class PlatformError(Exception):
    """Base: the message is safe to show to the user (no SQL, no stack)."""


class NotFound(PlatformError):
    pass


class Invalid(PlatformError):
    pass


class Unauthorized(PlatformError):
    pass


class Forbidden(PlatformError):
    pass


class Throttled(PlatformError):
    pass
