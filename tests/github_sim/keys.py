"""An RSA key pair for a test GitHub App, and the App JWT GitHub expects."""

from __future__ import annotations

import functools
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@functools.cache
def rsa_keypair(seed: int = 0) -> tuple[str, str]:
    """(private PEM, public PEM); one per ``seed`` per session, generation is slow-ish."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def app_jwt(app_id: int, private_pem: str, expires_in: int = 540) -> str:
    """An App JWT as GitHub documents it: RS256, ``iss`` = app id, iat backdated 60 s."""
    now = int(time.time())
    claims = {"iss": str(app_id), "iat": now - 60, "exp": now + expires_in}
    return jwt.encode(claims, private_pem, algorithm="RS256")
