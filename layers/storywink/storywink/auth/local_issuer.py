"""The local stack's token issuer: its own RSA key, a JWKS file, and minted tokens.

In the cloud, Cognito issues tokens; locally this plays that part with the same claim names.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from storywink.auth.verifier import GROUPS_CLAIM, PLAN_CLAIM

KEY_FILE = "local-signing-key.pem"
JWKS_FILE = "jwks.json"


@dataclass(frozen=True)
class LocalIssuer:
    private_key: rsa.RSAPrivateKey
    kid: str
    issuer: str
    audience: str
    jwks_path: Path

    @property
    def jwks_url(self) -> str:
        return self.jwks_path.resolve().as_uri()

    def mint(
        self,
        user_id: str,
        *,
        plan: str = "free",
        admin: bool = False,
        email: str | None = None,
        ttl_seconds: int = 12 * 3600,
    ) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
            "email": email or f"{user_id}@example.test",
            PLAN_CLAIM: plan,
            GROUPS_CLAIM: ["admin"] if admin else [],
        }
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})


def load_or_create_issuer(state_dir: Path, issuer: str, audience: str) -> LocalIssuer:
    """Reuse the key in ``state_dir`` (tokens survive restarts) or make one; always (re)write the JWKS."""
    state_dir.mkdir(parents=True, exist_ok=True)
    key_path = state_dir / KEY_FILE
    if key_path.exists():
        private_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    else:
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_path.write_bytes(
            private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_path.chmod(0o600)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise TypeError(f"{key_path} holds no RSA private key: delete it and a new one is made")
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    kid = jwt.utils.base64url_encode(hashlib.sha256(public_jwk["n"].encode()).digest()[:12]).decode()
    public_jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    jwks_path = state_dir / JWKS_FILE
    jwks_path.write_text(json.dumps({"keys": [public_jwk]}))
    return LocalIssuer(private_key, kid, issuer, audience, jwks_path)
