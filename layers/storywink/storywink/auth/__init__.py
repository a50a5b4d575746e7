"""Bearer-token verification against a JWKS, and the local stack's own token issuer."""
