"""Stable media URLs: one URL per object per window, S3 presigned (signed as of the window's start) or
CloudFront signed (canned policy, verified here with the public key)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from botocore.config import Config
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from storywink.config import Settings
from storywink.storage.cdn import media_urls
from storywink.storage.media import MediaStore
from storywink.storage.urls import MAX_WINDOW_SECONDS, CloudFrontUrls, S3Urls, UrlWindow

WINDOW = 3600
START = 1_700_000_000 // WINDOW * WINDOW  # a window boundary
KEY = "books/6f1c0e1e-5b0c-4c1e-9d7e-2a1f0c3b9a10/thumbnails/0b8f1c2e-1111-4e6a-8f0e-5d2c7a9b3e44.webp"


@pytest.fixture
def s3():
    """Temporary credentials, as a Lambda role has (the session token is signed too)."""
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        aws_session_token="session-token",
        region_name="eu-west-1",
    )
    return session.client("s3", config=Config(signature_version="s3v4"))


def store_at(s3, now: float, urls=None) -> MediaStore:
    return MediaStore("media-bucket", s3, urls=urls, window_seconds=WINDOW, clock=lambda: now)


def test_a_window_runs_from_a_multiple_of_its_length_and_its_urls_outlive_it_by_a_window():
    window = UrlWindow.at(START + 1234.5, WINDOW)
    assert (window.start, window.end, window.expires_at) == (START, START + WINDOW, START + 2 * WINDOW)
    assert window.cache_seconds(START + 1234.5) == WINDOW - 1235
    assert UrlWindow.at(START + WINDOW, WINDOW).start == START + WINDOW
    assert MAX_WINDOW_SECONDS == Settings.model_fields["media_url_window_seconds"].metadata[1].le


def test_the_same_object_has_one_s3_url_all_window_long_and_a_new_one_in_the_next(s3):
    first = store_at(s3, START).view_url(KEY)
    assert store_at(s3, START + 1).view_url(KEY) == first
    assert store_at(s3, START + WINDOW - 0.001).view_url(KEY) == first
    following = store_at(s3, START + WINDOW).view_url(KEY)
    assert following != first
    assert store_at(s3, START + 2 * WINDOW - 1).view_url(KEY) == following
    assert store_at(s3, START).view_url(KEY.replace("0b8f", "0b8e")) != first  # another object, another URL

    query = dict(parse_qsl(urlsplit(first).query))
    assert query["X-Amz-Date"] == "20231114T220000Z" == datetime.fromtimestamp(START, UTC).strftime("%Y%m%dT%H%M%SZ")
    assert int(query["X-Amz-Expires"]) == 2 * WINDOW  # signed at the window's start, good until a window after its end


def botocore_url_at_window_start(s3, key: str) -> str:
    """What botocore's own (CRT) presigning gives for ``key`` at START's window, its clocks held there."""
    at_start = datetime.fromtimestamp(START, UTC)
    with (
        mock.patch("botocore.auth.get_current_datetime", return_value=at_start.replace(tzinfo=None)),
        mock.patch("botocore.crt.auth.get_current_datetime", return_value=at_start),
    ):
        return s3.generate_presigned_url("get_object", Params={"Bucket": "media-bucket", "Key": key}, ExpiresIn=2 * WINDOW)


def local_endpoint_client():
    """A client of a local endpoint with a port (the local stack's moto), long-lived keys, path-style addresses."""
    return boto3.client(
        "s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:5999",
        aws_access_key_id="testing", aws_secret_access_key="testing", config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@pytest.mark.parametrize(
    "key", [KEY, "users/alice/photos/a photo (1).jpg", "books/ünïcödé/ほん/page+1=2&x~y.webp", "a//double/slash"]
)
@pytest.mark.parametrize("client", ["role credentials, virtual-hosted", "local endpoint, path style"])
def test_the_s3_url_is_what_botocore_itself_signs_at_the_window_start(s3, key, client):
    """Signed by SigV4's rules in a few lines: the same address and signature as botocore's own presigning."""
    s3 = s3 if client.startswith("role") else local_endpoint_client()
    mine = S3Urls(s3, "media-bucket").url(key, UrlWindow.at(START + 99, WINDOW))
    theirs = botocore_url_at_window_start(s3, key)
    mine_parts, their_parts = urlsplit(mine), urlsplit(theirs)
    assert mine_parts._replace(query="") == their_parts._replace(query="")
    assert dict(parse_qsl(mine_parts.query)) == dict(parse_qsl(their_parts.query))
    assert ("X-Amz-Security-Token" in dict(parse_qsl(mine_parts.query))) == client.startswith("role")


def test_an_s3_url_is_signed_once_a_window_and_again_with_new_credentials(s3):
    urls = S3Urls(s3, "media-bucket")
    window = UrlWindow.at(START, WINDOW)
    with mock.patch.object(S3Urls, "_sign", autospec=True, side_effect=lambda self, key, window, credentials: f"{key}@{credentials.access_key}") as sign:
        assert urls.url(KEY, window) == urls.url(KEY, window) == f"{KEY}@AKIDEXAMPLE"
        assert sign.call_count == 1
        urls.url(KEY, UrlWindow.at(START + WINDOW, WINDOW))
        assert sign.call_count == 2
        # A role's credentials renewed: URLs signed with the old ones would stop working when those expire.
        s3._request_signer._credentials = boto3.session.Session(
            aws_access_key_id="AKIDRENEWED", aws_secret_access_key="x", aws_session_token="t"
        ).get_credentials()
        assert urls.url(KEY, UrlWindow.at(START + WINDOW, WINDOW)) == f"{KEY}@AKIDRENEWED"


@pytest.fixture(scope="module")
def key_pair():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem, private.public_key()


def _cloudfront_b64decode(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def test_a_cloudfront_url_verifies_with_the_key_groups_public_key_and_expires_with_its_window(s3, key_pair):
    pem, public_key = key_pair
    urls = CloudFrontUrls("d111111abcdef8.cloudfront.net", "K2JCJMDEHXQW5F", lambda: pem)
    url = store_at(s3, START + 10, urls).view_url(KEY)

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "d111111abcdef8.cloudfront.net", f"/{KEY}")
    query = dict(parse_qsl(parts.query))
    assert set(query) == {"Expires", "Signature", "Key-Pair-Id"}
    assert query["Key-Pair-Id"] == "K2JCJMDEHXQW5F"
    assert int(query["Expires"]) == START + 2 * WINDOW
    # CloudFront's check: the canned policy of this resource and expiry, RSA-SHA1 with the trusted public key.
    policy = json.dumps(
        {"Statement": [{"Resource": f"https://{parts.netloc}{parts.path}",
                        "Condition": {"DateLessThan": {"AWS:EpochTime": int(query["Expires"])}}}]},
        separators=(",", ":"),
    ).encode()
    public_key.verify(_cloudfront_b64decode(query["Signature"]), policy, padding.PKCS1v15(), hashes.SHA1())

    assert store_at(s3, START + WINDOW - 1, urls).view_url(KEY) == url
    assert store_at(s3, START + WINDOW, urls).view_url(KEY) != url


def test_a_wrong_public_key_does_not_verify_a_cloudfront_url(s3, key_pair):
    pem, _ = key_pair
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    url = CloudFrontUrls("cdn.example", "KID", lambda: pem).url(KEY, UrlWindow.at(START, WINDOW))
    query = dict(parse_qsl(urlsplit(url).query))
    policy = json.dumps(
        {"Statement": [{"Resource": f"https://cdn.example/{KEY}",
                        "Condition": {"DateLessThan": {"AWS:EpochTime": int(query["Expires"])}}}]},
        separators=(",", ":"),
    ).encode()
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        other.verify(_cloudfront_b64decode(query["Signature"]), policy, padding.PKCS1v15(), hashes.SHA1())


def test_responses_may_be_cached_until_the_window_ends(s3):
    assert store_at(s3, START).cache_seconds() == WINDOW
    assert store_at(s3, START + WINDOW - 0.5).cache_seconds() == 0
    assert store_at(s3, START + 600).cache_seconds() == WINDOW - 600


def test_the_settings_choose_cloudfront_only_when_the_distribution_is_configured_whole(s3, key_pair):
    pem, _ = key_pair
    assert isinstance(media_urls(Settings(), s3), S3Urls)
    configured = Settings(
        MEDIA_CDN_DOMAIN="d111111abcdef8.cloudfront.net", MEDIA_CDN_KEY_ID="K2JCJMDEHXQW5F",
        MEDIA_CDN_PRIVATE_KEY=pem.decode(),
    )
    urls = media_urls(configured, s3)
    assert isinstance(urls, CloudFrontUrls)
    assert urls.url(KEY, UrlWindow.at(START, WINDOW)).startswith(f"https://d111111abcdef8.cloudfront.net/{KEY}?Expires=")
    with pytest.raises(ValueError, match="MEDIA_CDN_KEY_ID"):
        Settings(MEDIA_CDN_DOMAIN="d111111abcdef8.cloudfront.net")
