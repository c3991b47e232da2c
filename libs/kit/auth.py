"""Who is calling a service. The gateway authenticates clients and forwards a verified identity
as a short-lived internal token (HS256, signed with a key shared by the gateway and the services)
in the ``X-JobLink-Identity`` header. Every service verifies it: a request that reaches a service
directly, without it or with a forged one, gets 401; a missing scope gets 403."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Literal, get_args

import jwt
from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes

from kit.problems import Problem

IDENTITY_HEADER = "x-joblink-identity"
INTERNAL_ISSUER = "joblink-gateway"
INTERNAL_AUDIENCE = "joblink-services"
TOKEN_URL = "/api/v1/auth/token"

ScopeName = Literal[
    "candidates:read", "candidates:write", "vacancies:read", "vacancies:write", "matching:read",
    "jobfairs:admin", "stats:read", "admin",
]
SCOPES: dict[str, str] = {
    "candidates:read": "read candidates (full personal data only of your centre's)",
    "candidates:write": "register, update, import and erase candidates",
    "vacancies:read": "read employers and vacancies",
    "vacancies:write": "register employers and vacancies, edit your own",
    "matching:read": "read match recommendations",
    "jobfairs:admin": "schedule job fairs, run allocations, record outcomes",
    "stats:read": "read labour-market statistics",
    "admin": "everything, including API clients",
}
if set(SCOPES) != set(get_args(ScopeName)):
    raise RuntimeError("SCOPES and ScopeName disagree")


@dataclass(frozen=True)
class Principal:
    """An authenticated API client, as the gateway vouched for it."""

    client_id: str
    centre_id: str | None
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    def has(self, scope: str) -> bool:
        return self.is_admin or scope in self.scopes


class InvalidIdentity(Exception):
    pass


class IdentityCodec:
    """Signs (gateway) and verifies (services) the internal identity token."""

    def __init__(self, key: bytes, ttl_s: int = 60) -> None:
        if len(key) < 32:
            raise ValueError("the internal token key must be at least 32 bytes")
        self._key = key
        self.ttl_s = ttl_s

    def sign(self, principal: Principal) -> str:
        now = int(time.time())
        claims = {
            "iss": INTERNAL_ISSUER,
            "aud": INTERNAL_AUDIENCE,
            "sub": principal.client_id,
            "centre_id": principal.centre_id,
            "scope": " ".join(sorted(principal.scopes)),
            "iat": now,
            "exp": now + self.ttl_s,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=INTERNAL_AUDIENCE,
                issuer=INTERNAL_ISSUER,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
                leeway=5,
            )
        except jwt.PyJWTError as exc:
            raise InvalidIdentity(type(exc).__name__) from exc
        return Principal(
            client_id=claims["sub"],
            centre_id=claims.get("centre_id"),
            scopes=frozenset(claims.get("scope", "").split()),
        )


# Declared for OpenAPI (Swagger UI's "Authorize" with client credentials); the bearer token
# itself is checked by the gateway, services read the identity it forwards.
oauth2 = OAuth2(
    flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_URL, scopes=SCOPES)),
    scheme_name="oauth2",
    auto_error=False,
)


async def current_principal(
    security_scopes: SecurityScopes, request: Request, _bearer: str | None = Depends(oauth2)
) -> Principal:
    codec: IdentityCodec | None = request.app.state.identity
    token = request.headers.get(IDENTITY_HEADER)
    if not token or codec is None:
        raise Problem(401, "unauthenticated", "Authentication is required.", headers={"WWW-Authenticate": "Bearer"})
    try:
        principal = codec.verify(token)
    except InvalidIdentity:
        raise Problem(
            401, "unauthenticated", "The caller's identity could not be verified.", headers={"WWW-Authenticate": "Bearer"}
        ) from None
    missing = [s for s in security_scopes.scopes if not principal.has(s)]
    if missing:
        raise Problem(403, "insufficient-scope", f"This operation needs the scope '{missing[0]}'.")
    return principal


def require(*scopes: str) -> Principal:
    """Route dependency: the verified caller, holding every one of ``scopes``."""
    return Security(current_principal, scopes=list(scopes))
