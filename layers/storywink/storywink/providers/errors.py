"""Provider failures, classified so the state machine knows what to retry.

``error_name`` is what a worker passes as ``error`` to Step Functions SendTaskFailure; the
state machine's Retry/Catch blocks match on it, so these strings are part of its contract.
"""

from __future__ import annotations


class ProviderError(Exception):
    error_name = "Provider.Error"

    def __init__(self, message: str, *, provider: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider


class TransientProviderError(ProviderError):
    """Timeouts, connection resets, 429 and 5xx: worth retrying with backoff."""

    error_name = "Provider.Transient"


class ContentPolicyError(ProviderError):
    """The provider refused on safety grounds: the page is FLAGGED and never retried."""

    error_name = "Provider.ContentPolicy"


class PermanentProviderError(ProviderError):
    """Anything else that will fail the same way again (bad input, unsupported style, 4xx)."""

    error_name = "Provider.Permanent"


def classify_http_status(status: int) -> type[ProviderError]:
    if status == 429 or status >= 500:
        return TransientProviderError
    return PermanentProviderError
