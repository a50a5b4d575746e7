"""The one place where the SDK's exceptions become ours, by type: what the state machine retries
(Provider.Transient), what flags a page (Provider.ContentPolicy), what fails it (Provider.Permanent)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import openai

from storywink.providers.errors import (
    ContentPolicyError,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    classify_http_status,
)
from storywink.providers.openai.client import NAME

# Error codes OpenAI answers (with a 400) when a prompt or an image is refused on safety grounds.
CONTENT_POLICY_CODES = frozenset({"content_policy_violation", "moderation_blocked"})
# 408 and 409 (a lock timeout) succeed on a second try: the SDK's own retry policy retries them too.
_TRANSIENT = (openai.RateLimitError, openai.InternalServerError, openai.ConflictError)
# A 401 message quotes the key's first and last characters; none of it goes into our errors or logs.
_KEY = re.compile(r"\b(sk|sess)-[A-Za-z0-9_\-*]{4,}")


@contextmanager
def openai_errors() -> Iterator[None]:
    """Runs an SDK call, re-raising its failure as the classified provider error."""
    try:
        yield
    except openai.OpenAIError as exc:
        raise provider_error(exc) from exc


def provider_error(exc: openai.OpenAIError) -> ProviderError:
    cause = f" ({type(exc.__cause__).__name__})" if exc.__cause__ else ""
    if isinstance(exc, openai.APITimeoutError):
        return TransientProviderError(f"OpenAI did not answer in time{cause}", provider=NAME)
    if isinstance(exc, openai.APIConnectionError):
        return TransientProviderError(f"Could not reach OpenAI{cause}: {_detail(exc)}", provider=NAME)
    if not isinstance(exc, openai.APIStatusError):
        return PermanentProviderError(f"OpenAI request failed: {_detail(exc)}", provider=NAME)

    message = f"OpenAI answered {exc.status_code}{f' {exc.code}' if exc.code else ''}: {_detail(exc)}"
    if exc.request_id:
        message += f" (request {exc.request_id})"
    if exc.status_code == 400 and exc.code in CONTENT_POLICY_CODES:
        return ContentPolicyError(message, provider=NAME)
    if isinstance(exc, _TRANSIENT) or exc.status_code == 408:
        return TransientProviderError(message, provider=NAME)
    return classify_http_status(exc.status_code)(message, provider=NAME)


def _detail(exc: openai.OpenAIError) -> str:
    """The provider's own message: the error body's ``message`` when there is one."""
    body = getattr(exc, "body", None)
    text = body.get("message") if isinstance(body, dict) and isinstance(body.get("message"), str) else None
    return _KEY.sub(r"\1-***", text or str(exc))
