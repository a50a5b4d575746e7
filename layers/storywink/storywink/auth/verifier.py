"""Verify bearer JWTs: signature from the JWKS, algorithm pinned, issuer, audience and expiry required."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import jwt

from storywink.auth.claims import Caller
from storywink.config import Settings
from storywink.domain.enums import Plan
from storywink.domain.errors import ServiceUnavailable, Unauthorized

PLAN_CLAIM = "custom:plan"
GROUPS_CLAIM = "cognito:groups"


def _local_signing_key(jwks_url: str, token: str) -> jwt.PyJWK:
    """The key that signed ``token`` from a local JWKS file (the local stack)."""
    kid = jwt.get_unverified_header(token).get("kid")
    jwk_set = jwt.PyJWKSet.from_json(Path(url2pathname(urlparse(jwks_url).path)).read_text())
    for key in jwk_set.keys:
        if key.key_id == kid:
            return key
    raise jwt.PyJWKClientError(f"No key with kid {kid!r} in the local JWKS")


class TokenVerifier:
    def __init__(
        self, jwks_url: str, issuer: str, audience: str, algorithm: str = "RS256", admin_group: str = "admin"
    ) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.algorithm = algorithm
        self.admin_group = admin_group
        # Keys are cached for the container's life; an unknown kid triggers one refetch.
        self._jwks = None if jwks_url.startswith("file://") else jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600)

    def _signing_key(self, token: str) -> jwt.PyJWK:
        if self._jwks is None:
            return _local_signing_key(self.jwks_url, token)
        return self._jwks.get_signing_key_from_jwt(token)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        if not settings.jwks_url:
            raise ServiceUnavailable("Authentication is not configured (AUTH_JWKS_URL)", code="AUTH_NOT_CONFIGURED")
        return cls(
            settings.jwks_url, settings.jwt_issuer, settings.jwt_audience, settings.jwt_algorithm, settings.admin_group
        )

    def verify(self, token: str) -> Caller:
        claims = self._decode(token)
        groups = claims.get(GROUPS_CLAIM) or []
        plan_value = claims.get(PLAN_CLAIM, Plan.FREE.value)
        try:
            plan = Plan(plan_value)
        except ValueError:
            plan = Plan.FREE
        return Caller(
            user_id=str(claims["sub"]),
            email=claims.get("email"),
            plan=plan,
            is_admin=isinstance(groups, list) and self.admin_group in groups,
        )

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("The bearer token is malformed.", code="TOKEN_INVALID") from exc
        # Pin the algorithm before touching keys: rejects "none" and HS/RS confusion outright.
        if header.get("alg") != self.algorithm:
            raise Unauthorized("The bearer token uses an algorithm this API does not accept.", code="TOKEN_INVALID")
        try:
            signing_key = self._signing_key(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise ServiceUnavailable("The signing keys could not be loaded.", code="JWKS_UNAVAILABLE") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The bearer token was not signed by a known key.", code="TOKEN_INVALID") from exc
        try:
            return jwt.decode(
                token,
                signing_key.key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=30,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The bearer token has expired.", code="TOKEN_EXPIRED") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The bearer token is not valid for this API.", code="TOKEN_INVALID") from exc
