"""Access tokens: short-lived JWTs signed with the gateway's Ed25519 key (``kid`` = key
thumbprint, public keys at ``/.well-known/jwks.json``), or tokens of an external identity
provider verified against its JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from itertools import islice
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt import PyJWK

from kit.auth import Principal


class InvalidToken(Exception):
    pass


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key from a PEM file, created (mode 0600) when missing."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    """Issues the gateway's tokens and verifies them. A client sends the same token with every
    request for its whole life, and checking its Ed25519 signature costs about 190 µs: a token
    once verified is remembered (its principal and expiry, ``VERIFIED_MAX`` tokens at most)
    until it expires, and the same string is then only checked for expiry."""

    VERIFIED_MAX = 10_000

    def __init__(self, key: Ed25519PrivateKey, issuer: str, audience: str, ttl_s: int) -> None:
        self.key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl_s = ttl_s
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64(public), "use": "sig", "alg": "EdDSA"}
        thumbprint = json.dumps({k: self.jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"), sort_keys=True)
        self.kid = _b64(hashlib.sha256(thumbprint.encode()).digest())  # RFC 7638
        self.jwk["kid"] = self.kid
        self._verifier = PyJWK(self.jwk)
        self._verified: dict[str, tuple[Principal, float]] = {}  # token → (principal, expires at)

    def issue(self, principal: Principal) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": principal.client_id,
            "scope": " ".join(sorted(principal.scopes)),
            "centre_id": principal.centre_id,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_s,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [self.jwk]}

    def verify(self, token: str) -> Principal:
        if (known := self._verified.get(token)) is not None:
            principal, expires_at = known
            if time.time() < expires_at:
                return principal
            del self._verified[token]
            raise InvalidToken("ExpiredSignatureError")
        principal, expires_at = self._verify(token)
        if len(self._verified) >= self.VERIFIED_MAX:  # the expired go, or else the oldest tenth
            now = time.time()
            stale = [t for t, (_p, at) in self._verified.items() if at <= now]
            for token_ in stale or list(islice(self._verified, max(1, self.VERIFIED_MAX // 10))):
                del self._verified[token_]
        self._verified[token] = (principal, expires_at)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") != self.kid:
                raise InvalidToken("unknown key")
            claims = jwt.decode(
                token,
                self._verifier,
                algorithms=["EdDSA"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from exc
        return (Principal(claims["sub"], claims.get("centre_id"), frozenset(claims.get("scope", "").split())),
                float(claims["exp"]))


class ExternalTokens:
    """Tokens of an external identity provider, checked against its JWKS (cached, refreshed
    when a token names an unknown ``kid``)."""

    def __init__(self, jwks_url: str, issuer: str, audience: str, client: httpx.AsyncClient) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.client = client
        self._keys: dict[str, PyJWK] = {}
        self._fetched = 0.0

    async def _key(self, kid: str) -> PyJWK:
        if kid not in self._keys and time.monotonic() - self._fetched > 30:
            response = await self.client.get(self.jwks_url, timeout=5)
            response.raise_for_status()
            self._keys = {k["kid"]: PyJWK(k) for k in response.json()["keys"] if "kid" in k}
            self._fetched = time.monotonic()
        try:
            return self._keys[kid]
        except KeyError:
            raise InvalidToken("unknown key") from None

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            key = await self._key(header.get("kid", ""))
            claims = jwt.decode(
                token, key, algorithms=[key.algorithm_name], audience=self.audience, issuer=self.issuer,
                options={"require": ["exp", "sub", "aud", "iss"]},
            )
        except (jwt.PyJWTError, httpx.HTTPError) as exc:
            raise InvalidToken(type(exc).__name__) from exc
        return Principal(claims["sub"], claims.get("centre_id"), frozenset(claims.get("scope", "").split()))
