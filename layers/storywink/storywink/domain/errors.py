"""The one error family. Each error knows its code and HTTP status; handlers map by type."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An error with a stable code and an HTTP status.

    ``is_operational`` is True for expected conditions (bad input, missing book) and False
    for programming or infrastructure faults, which are logged with their stack.
    """

    code = "INTERNAL_ERROR"
    status_code = 500
    is_operational = True

    def __init__(
        self,
        message: str,
        code: str | None = None,
        status_code: int | None = None,
        is_operational: bool | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        if is_operational is not None:
            self.is_operational = is_operational
        self.details = details


class BadRequest(AppError):
    code = "BAD_REQUEST"
    status_code = 400


class Unauthorized(AppError):
    code = "UNAUTHORIZED"
    status_code = 401


class Forbidden(AppError):
    code = "FORBIDDEN"
    status_code = 403


class NotFound(AppError):
    code = "NOT_FOUND"
    status_code = 404


class Conflict(AppError):
    code = "CONFLICT"
    status_code = 409


class Gone(AppError):
    code = "GONE"
    status_code = 410


class PayloadTooLarge(AppError):
    code = "PAYLOAD_TOO_LARGE"
    status_code = 413


class UnsupportedMediaType(AppError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status_code = 415


class ValidationFailed(AppError):
    code = "VALIDATION_FAILED"
    status_code = 422


class RateLimited(AppError):
    code = "RATE_LIMITED"
    status_code = 429

    def __init__(self, message: str, retry_after_seconds: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailable(AppError):
    code = "SERVICE_UNAVAILABLE"
    status_code = 503
    is_operational = False


class ProviderBudgetExhausted(ServiceUnavailable):
    """Today's ceiling on AI provider calls, over all users, is reached: no new generation until it resets."""

    code = "PROVIDER_BUDGET_EXHAUSTED"
    is_operational = True

    def __init__(self, message: str, retry_after_seconds: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_seconds = retry_after_seconds
