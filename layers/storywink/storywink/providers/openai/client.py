"""The OpenAI client, built from the settings (the adapters build it on first use, once per container).

The API key comes from, in order: OPENAI_API_KEY; the Secrets Manager secret named by
OPENAI_API_KEY_SECRET_ARN (the raw key or ``{"apiKey": "..."}``); the SSM SecureString parameter
named by OPENAI_API_KEY_PARAMETER. The client asks for the key on every request and Powertools
caches it for five minutes, so a rotated key is picked up without a cold start.
"""

from __future__ import annotations

import json

import httpx2
import openai

from storywink.config import Settings
from storywink.providers.errors import PermanentProviderError

NAME = "openai"
_KEY_CACHE_SECONDS = 300


def build_client(settings: Settings, http_client: httpx2.Client | None = None) -> openai.OpenAI:
    resolve_api_key(settings)  # a missing key fails here, with a clear message, before any request
    return openai.OpenAI(
        api_key=lambda: resolve_api_key(settings),
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_seconds,
        max_retries=0,  # the state machine owns retries (backoff with jitter, then failure routing)
        http_client=http_client,
    )


def resolve_api_key(settings: Settings) -> str:
    if settings.openai_api_key and settings.openai_api_key.get_secret_value().strip():
        return settings.openai_api_key.get_secret_value().strip()
    if settings.openai_api_key_secret_arn:
        from aws_lambda_powertools.utilities.parameters import get_secret

        source = f"secret {settings.openai_api_key_secret_arn}"
        return _key_from_value(_read(source, get_secret, settings.openai_api_key_secret_arn), source)
    if settings.openai_api_key_parameter:
        from aws_lambda_powertools.utilities.parameters import get_parameter

        source = f"parameter {settings.openai_api_key_parameter}"
        return _key_from_value(
            _read(source, get_parameter, settings.openai_api_key_parameter, decrypt=True), source
        )
    raise PermanentProviderError(
        "No OpenAI API key configured: set OPENAI_API_KEY, OPENAI_API_KEY_SECRET_ARN or OPENAI_API_KEY_PARAMETER",
        provider=NAME,
    )


def _read(source: str, fetch, name: str, **options) -> str:  # type: ignore[no-untyped-def]
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        value = fetch(name, max_age=_KEY_CACHE_SECONDS, **options)
    except GetParameterError as exc:
        raise PermanentProviderError(f"Could not read the OpenAI API key from {source}: {exc}", provider=NAME) from exc
    return value.decode() if isinstance(value, bytes) else str(value)


def _key_from_value(value: str, source: str) -> str:
    value = value.strip()
    if value.startswith("{"):
        try:
            value = str(json.loads(value).get("apiKey") or "").strip()
        except (ValueError, AttributeError):
            value = ""
    if not value:
        raise PermanentProviderError(
            f'The {source} holds no OpenAI API key (expected the key or {{"apiKey": "..."}})', provider=NAME
        )
    return value
