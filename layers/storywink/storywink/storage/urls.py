"""Stable media URLs: one URL per object per window, so a browser downloads a picture once per window.

Time is cut into windows of ``MEDIA_URL_WINDOW_SECONDS`` that start at multiples of it (Unix time). Every
URL handed out in a window is signed as of the window's start and expires one whole window after its end,
so the same object gives byte-identical URLs all window long, and a response that embeds them may be
cached until the window ends (``UrlWindow.cache_seconds``) with every URL in it still good for at least
another window after that.

In the cloud the URLs are CloudFront signed URLs (canned policy, RSA-SHA1, the key group's key); anywhere
else (the local stack, moto) S3 presigned GETs whose SigV4 signing time is pinned to the window's start.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from botocore.auth import SIGV4_TIMESTAMP, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.signers import CloudFrontSigner

# SigV4 presigned URLs may live at most seven days, and a URL lives two windows.
MAX_WINDOW_SECONDS = 7 * 86_400 // 2


@dataclass(frozen=True)
class UrlWindow:
    """The window ``[start, end)`` (Unix seconds) whose URLs all expire at ``expires_at``."""

    start: int
    seconds: int

    @classmethod
    def at(cls, now: float, seconds: int) -> UrlWindow:
        return cls(start=int(now // seconds) * seconds, seconds=seconds)

    @property
    def end(self) -> int:
        return self.start + self.seconds

    @property
    def expires_at(self) -> int:
        return self.end + self.seconds

    def cache_seconds(self, now: float) -> int:
        """How long a response built now with this window's URLs may be cached: until the window ends."""
        return max(0, math.floor(self.end - now))


class MediaUrls(Protocol):
    def url(self, key: str, window: UrlWindow) -> str: ...


class CloudFrontUrls:
    """CloudFront signed URLs of ``https://{domain}/{key}`` with a canned policy expiring at the window's expiry.
    The private key (PEM) is read on first use; its public key is in the distribution's trusted key group."""

    def __init__(self, domain: str, key_id: str, private_key_pem: Callable[[], bytes]) -> None:
        self.domain = domain.removeprefix("https://").rstrip("/")
        self._key_id = key_id
        self._private_key_pem = private_key_pem
        self._signer: CloudFrontSigner | None = None

    def url(self, key: str, window: UrlWindow) -> str:
        if self._signer is None:
            self._signer = CloudFrontSigner(self._key_id, _rsa_sha1_signer(self._private_key_pem()))
        resource = f"https://{self.domain}/{quote(key, safe='/')}"
        return self._signer.generate_presigned_url(resource, date_less_than=datetime.fromtimestamp(window.expires_at, UTC))


def _rsa_sha1_signer(pem: bytes) -> Callable[[bytes], bytes]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the CloudFront signing key must be an RSA private key (PEM)")
    # CloudFront verifies signed URLs with SHA-1 (its trusted key groups take RSA-2048 keys).
    return lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1())


class S3Urls:
    """S3 presigned GETs signed as of the window's start, valid until its expiry.

    botocore signs with the current time (X-Amz-Date), so its URL gives the object's address (endpoint,
    addressing style, parameters) and is then signed again with the window's time. Stable as long as the
    credentials are: always locally; in the cloud a Lambda's role credentials change between containers,
    which is why the cloud signs with CloudFront instead."""

    _AUTH_PARAMETERS = frozenset(
        {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
         "X-Amz-Security-Token", "X-Amz-Signature"}
    )

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def url(self, key: str, window: UrlWindow) -> str:
        lifetime = window.expires_at - window.start
        address = urlsplit(
            self._s3.generate_presigned_url("get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=lifetime)
        )
        query = [(name, value) for name, value in parse_qsl(address.query, keep_blank_values=True)
                 if name not in self._AUTH_PARAMETERS]
        request = AWSRequest(method="GET", url=urlunsplit(address._replace(query=urlencode(query))))
        # The client's own credentials (botocore has no public accessor; it signed the URL above with them).
        credentials = self._s3._get_credentials().get_frozen_credentials()
        signed_at = datetime.fromtimestamp(window.start, UTC).strftime(SIGV4_TIMESTAMP)
        _SignedAt(credentials, "s3", self._s3.meta.region_name, expires=lifetime, signed_at=signed_at).add_auth(request)
        return request.prepare().url


class _SignedAt(S3SigV4QueryAuth):
    """SigV4 query signing as of a given time rather than now."""

    def __init__(self, *args: Any, signed_at: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signed_at = signed_at

    def _modify_request_before_signing(self, request: AWSRequest) -> None:
        # add_auth has just stamped the current time; everything it signs after this reads the stamp.
        request.context["timestamp"] = self._signed_at
        super()._modify_request_before_signing(request)
