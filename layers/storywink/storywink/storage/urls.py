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

import hashlib
import hmac
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlsplit

from botocore.auth import SIGV4_TIMESTAMP
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
        self._memo = _Memo()

    def url(self, key: str, window: UrlWindow) -> str:
        return self._memo.get(key, window, self._key_id, lambda: self._sign(key, window))

    def _sign(self, key: str, window: UrlWindow) -> str:
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

    The object's address (endpoint, addressing style) is botocore's, taken once from a URL it presigns;
    each URL is then signed by SigV4's query-string rules with the window's start as its time, by
    `_sign` below (botocore's own query signer takes about 0.25 ms a URL, this one a tenth of that;
    tests/unit/test_media_urls.py checks both give the same signature). Stable as long as the credentials
    are: always locally; in the cloud a Lambda's role credentials change between containers, which is
    why the cloud signs with CloudFront instead."""

    _AUTH_PARAMETERS = frozenset(
        {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
         "X-Amz-Security-Token", "X-Amz-Signature"}
    )
    _PROBE = "storywink-address-probe"

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._address: tuple[str, str, str, list[tuple[str, str]]] | None = None
        self._signing_keys: dict[tuple[str, str, str], bytes] = {}
        self._memo = _Memo()

    def url(self, key: str, window: UrlWindow) -> str:
        # The client's own credentials (botocore has no public accessor; it signs its own calls with them).
        credentials = self._s3._get_credentials().get_frozen_credentials()
        return self._memo.get(key, window, credentials.access_key, lambda: self._sign(key, window, credentials))

    def _sign(self, key: str, window: UrlWindow, credentials: Any) -> str:
        scheme, host, prefix, extra = self._address or self._find_address()
        path = prefix + quote(key, safe="/~")
        signed_at = datetime.fromtimestamp(window.start, UTC)
        date, stamp = signed_at.strftime("%Y%m%d"), signed_at.strftime(SIGV4_TIMESTAMP)
        region = self._s3.meta.region_name
        scope = f"{date}/{region}/s3/aws4_request"
        query = [
            *extra,
            ("X-Amz-Algorithm", _ALGORITHM),
            ("X-Amz-Credential", f"{credentials.access_key}/{scope}"),
            ("X-Amz-Date", stamp),
            ("X-Amz-Expires", str(window.expires_at - window.start)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if credentials.token:
            query.append(("X-Amz-Security-Token", credentials.token))
        canonical_query = "&".join(
            f"{name}={value}" for name, value in sorted((_encode(name), _encode(value)) for name, value in query)
        )
        canonical = f"GET\n{path}\n{canonical_query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD"
        to_sign = f"{_ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._signing_key(credentials.secret_key, date, region), to_sign.encode(), hashlib.sha256)
        return f"{scheme}://{host}{path}?{canonical_query}&X-Amz-Signature={signature.hexdigest()}"

    def _find_address(self) -> tuple[str, str, str, list[tuple[str, str]]]:
        """Where botocore sends a GET of this bucket's objects: scheme, host, the path before the key, and
        any query parameters of its own (none for a plain GET)."""
        presigned = urlsplit(
            self._s3.generate_presigned_url("get_object", Params={"Bucket": self._bucket, "Key": self._PROBE}, ExpiresIn=60)
        )
        extra = [(name, value) for name, value in parse_qsl(presigned.query, keep_blank_values=True)
                 if name not in self._AUTH_PARAMETERS]
        self._address = (presigned.scheme, presigned.netloc, presigned.path.removesuffix(self._PROBE), extra)
        return self._address

    def _signing_key(self, secret: str, date: str, region: str) -> bytes:
        """SigV4's key of the day, derived once a day per secret (four HMACs)."""
        cached = (secret, date, region)
        if cached not in self._signing_keys:
            if len(self._signing_keys) > 8:
                self._signing_keys.clear()
            signing_key = f"AWS4{secret}".encode()
            for part in (date, region, "s3", "aws4_request"):
                signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
            self._signing_keys[cached] = signing_key
        return self._signing_keys[cached]


_ALGORITHM = "AWS4-HMAC-SHA256"


def _encode(text: str) -> str:
    """SigV4's URI encoding: every byte but A-Z a-z 0-9 - _ . ~ percent-encoded."""
    return quote(text, safe="-_.~")


class _Memo:
    """The URLs signed in the current window, by object and credential: a library shown again costs a
    dictionary lookup instead of a signature. Holds one window's URLs, at most ``limit`` of them."""

    def __init__(self, limit: int = 5000) -> None:
        self._limit = limit
        self._window: UrlWindow | None = None
        self._urls: dict[tuple[str, str], str] = {}

    def get(self, key: str, window: UrlWindow, credential: str, sign: Callable[[], str]) -> str:
        if window != self._window or len(self._urls) >= self._limit:
            self._window, self._urls = window, {}
        url = self._urls.get((key, credential))
        if url is None:
            url = self._urls[(key, credential)] = sign()
        return url
