"""Which signer the media URLs get from the settings: CloudFront's when the distribution is configured."""

from __future__ import annotations

from typing import Any

from storywink.config import Settings
from storywink.storage.urls import CloudFrontUrls, MediaUrls, S3Urls

# Read once per container: a new key is a new public key id in the key group, hence a deploy and a cold start.
_SECRET_CACHE_SECONDS = 3600


def media_urls(settings: Settings, s3: Any) -> MediaUrls:
    # Settings refuses a domain without its key id and private key.
    if not (settings.media_cdn_domain and settings.media_cdn_key_id):
        return S3Urls(s3, settings.bucket_name)
    return CloudFrontUrls(settings.media_cdn_domain, settings.media_cdn_key_id, lambda: private_key_pem(settings))


def private_key_pem(settings: Settings) -> bytes:
    """The PEM of the CloudFront signing key: MEDIA_CDN_PRIVATE_KEY, else the Secrets Manager secret's string."""
    if settings.media_cdn_private_key is not None:
        return settings.media_cdn_private_key.get_secret_value().encode()
    from aws_lambda_powertools.utilities.parameters import get_secret

    value = get_secret(settings.media_cdn_private_key_secret_arn, max_age=_SECRET_CACHE_SECONDS)
    return value if isinstance(value, bytes) else str(value).encode()
