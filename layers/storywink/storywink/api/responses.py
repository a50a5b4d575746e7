"""What an operation may answer besides success, for the OpenAPI document: every error status with the one
error shape (ErrorResponse), and the Retry-After header where the server sends it.

Routers list the statuses their operations really return (a shared set per router, extras per route);
tests/unit/test_openapi_contract.py holds the document to them, and tests/integration/test_openapi_responses.py
checks real error answers against it."""

from __future__ import annotations

from typing import Any

from storywink.api.schemas import ErrorResponse

RETRY_AFTER = {
    "Retry-After": {"description": "Seconds until the limit allows this again", "schema": {"type": "integer", "minimum": 1}}
}

WHY = {
    400: "The request is well-formed but asks for nothing: `EMPTY_UPDATE`",
    401: "No bearer token, or one that is malformed, expired or not for this API: `TOKEN_MISSING`, `TOKEN_INVALID`, "
    "`TOKEN_EXPIRED`",
    403: "The caller is not an administrator: `ADMIN_ONLY`",
    404: "No such book of the caller's (`BOOK_NOT_FOUND`; another user's book answers the same)",
    409: "The book's status does not allow this now: `BOOK_STATE_CONFLICT` (details: status, allowed)",
    410: "The caller's account has been deleted, or its deletion is under way: `ACCOUNT_DELETED` (its tokens "
    "stay valid until they expire, but nothing more is read or made for it)",
    413: "A photo is larger than `MAX_PHOTO_BYTES`: `PHOTO_TOO_LARGE`",
    415: "A photo is not JPEG, PNG, WebP or HEIC/HEIF: `UNSUPPORTED_IMAGE_TYPE`",
    422: "The request is not valid: `VALIDATION_FAILED` (details: one ValidationIssue per problem)",
    429: "Too many requests this minute: `RATE_LIMITED` (changes and reads have limits of their own; details: "
    "QuotaDetails)",
    500: "Something went wrong on our side: `INTERNAL_ERROR`",
    503: "A dependency is unavailable or not configured (the database, the signing keys: `JWKS_UNAVAILABLE`, "
    "`AUTH_NOT_CONFIGURED`, `DATABASE_NOT_CONFIGURED`, ...); try again later",
}


def errors(*statuses: int, **why: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI responses for these error statuses; ``why`` (keyed ``s404``, ``s409``, ...) replaces a
    status's usual description where the operation has its own reasons."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {"model": ErrorResponse, "description": why.pop(f"s{status}", WHY[status])}
        if status == 429:
            response["headers"] = RETRY_AFTER
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}
        documented[status] = response
    if why:
        raise ValueError(f"reasons given for statuses not listed: {sorted(why)}")
    return documented


# Every operation that reads the caller's token: it may be refused (401), fail (500), or find its
# database or signing keys unavailable (503).
AUTHENTICATED = errors(401, 500, 503)
# Every /v1 operation counts against the caller's changes or reads a minute (admins are exempt).
RATE_LIMITED = errors(429)
# Every operation that acts for the caller's account (CurrentUser): refused once its deletion was asked for.
OF_A_USER = AUTHENTICATED | errors(410)
# ... and, under /v1/books/{book_id}, the book may not be the caller's (404) or the id not a UUID (422).
OF_A_BOOK = errors(404, 422)
