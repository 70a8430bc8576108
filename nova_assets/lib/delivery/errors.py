"""The one error every channel raises, saying whether a later retry can help."""

from __future__ import annotations


class DeliveryError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable
