"""Bearer tokens: only a valid, unexpired, correctly signed RS256 token for this API gets in."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def claims(issuer, **overrides) -> dict:
    now = int(time.time())
    return {"sub": "alice", "iss": issuer.issuer, "aud": issuer.audience, "iat": now, "exp": now + 600, **overrides}


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def get_library(client, token: str):
    return client.get("/v1/books", headers={"Authorization": f"Bearer {token}"})


def assert_unauthorized(response, code: str = "TOKEN_INVALID") -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == code
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_valid_token_is_accepted(client, auth):
    assert client.get("/v1/books", headers=auth()).status_code == 200


def test_missing_token_is_unauthorized(client):
    assert_unauthorized(client.get("/v1/books"), "TOKEN_MISSING")


def test_expired_token_is_rejected(client, issuer):
    token = jwt.encode(claims(issuer, exp=int(time.time()) - 120), issuer.private_key, "RS256", headers={"kid": issuer.kid})
    assert_unauthorized(get_library(client, token), "TOKEN_EXPIRED")


def test_token_signed_by_another_key_is_rejected(client, issuer):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(issuer), stranger, "RS256", headers={"kid": issuer.kid})
    assert_unauthorized(get_library(client, token))


def test_token_for_another_audience_is_rejected(client, issuer):
    token = jwt.encode(claims(issuer, aud="someone-else"), issuer.private_key, "RS256", headers={"kid": issuer.kid})
    assert_unauthorized(get_library(client, token))


def test_token_from_another_issuer_is_rejected(client, issuer):
    token = jwt.encode(claims(issuer, iss="https://evil.example"), issuer.private_key, "RS256", headers={"kid": issuer.kid})
    assert_unauthorized(get_library(client, token))


def test_unsigned_alg_none_token_is_rejected(client, issuer):
    token = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': issuer.kid})}.{b64(claims(issuer))}."
    assert_unauthorized(get_library(client, token))


def test_hs256_token_keyed_with_the_public_key_is_rejected(client, issuer):
    """Algorithm confusion: an attacker signs HS256 using the published RSA public key as the secret."""
    import hashlib
    import hmac

    public_pem = issuer.private_key.public_key().public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': issuer.kid})}.{b64(claims(issuer))}"
    signature = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    assert_unauthorized(get_library(client, f"{signing_input}.{signature.decode().rstrip('=')}"))


def test_token_without_expiry_is_rejected(client, issuer):
    body = claims(issuer)
    body.pop("exp")
    token = jwt.encode(body, issuer.private_key, "RS256", headers={"kid": issuer.kid})
    assert_unauthorized(get_library(client, token))


@pytest.mark.parametrize("header", ["Bearer", "Bearer not.a.jwt", "Basic YWxpY2U6cHc="])
def test_garbage_authorization_is_rejected(client, header):
    response = client.get("/v1/books", headers={"Authorization": header})
    assert response.status_code == 401
