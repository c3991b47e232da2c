"""What the gateway does to every request before routing it: drop any identity a client tried
to supply, authenticate the bearer token, apply the client's rate limit, and attach the signed
internal identity the services verify; security headers on every response."""

from __future__ import annotations

import hashlib

import structlog
from starlette.datastructures import MutableHeaders, State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.clients import ClientRegistry
from gateway.tokens import ExternalTokens, InvalidToken, TokenIssuer
from kit.auth import IDENTITY_HEADER, TOKEN_URL, IdentityCodec, Principal
from kit.db import unavailable
from kit.problems import problem_response, unavailable_response

log = structlog.get_logger("gateway.security")

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
)
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
PUBLIC_API_PATHS = frozenset({TOKEN_URL})
# Pages and hooks reached without a token (the RSVP page, SMS replies): limited per address instead.
PUBLIC_PREFIXES = ("/rsvp/", "/hooks/")


class Authenticator:
    """Bearer token → principal: the gateway's own tokens, or an external provider's."""

    def __init__(
        self, issuer: TokenIssuer, registry: ClientRegistry, external: ExternalTokens | None = None
    ) -> None:
        self.issuer = issuer
        self.registry = registry
        self.external = external

    async def principal(self, token: str) -> Principal:
        try:
            principal = self.issuer.verify(token)
        except InvalidToken:
            if self.external is None:
                raise
            return await self.external.verify(token)
        if not await self.registry.is_active(principal.client_id):
            raise InvalidToken("client revoked")
        return principal


class GatewaySecurityMiddleware:
    """Reads its collaborators from ``state`` at request time: they are made in the lifespan."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = MutableHeaders(scope=scope)
        del headers[IDENTITY_HEADER]  # only the gateway may speak for a caller
        path: str = scope["path"]

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(SECURITY_HEADERS)
                own = any(k.lower() == b"content-security-policy" for k, _v in message.get("headers", []))
                if not own and not path.startswith("/docs"):  # pages (RSVP, reports) bring their own
                    extra.append(API_CSP)
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            if path.startswith("/api/") and path not in PUBLIC_API_PATHS:
                rejection = await self._authenticate(headers)
            elif path.startswith(PUBLIC_PREFIXES):
                rejection = await self._limit_address(scope)
            else:
                rejection = None
        except Exception as exc:
            if not unavailable(exc):  # the rate limits and revoked tokens live in the gateway's database
                raise
            log.warning("database_unavailable", path=path, error=repr(exc))
            rejection = unavailable_response()
        if rejection is not None:
            await rejection(scope, receive, send_secured)
            return
        await self.app(scope, receive, send_secured)

    async def _limit_address(self, scope: Scope):  # noqa: ANN202
        """Unauthenticated paths get a bucket per client address (hashed: no address is stored),
        which keeps RSVP codes from being guessed at speed."""
        address = (scope.get("client") or ("unknown", 0))[0]
        decision = await self.state.buckets.take("addr:" + hashlib.sha256(address.encode()).hexdigest()[:32])
        if decision.allowed:
            return None
        return problem_response(429, "rate-limited", "Too many requests from this address; retry later.",
                                headers={"Retry-After": str(decision.retry_after_s)})

    async def _authenticate(self, headers: MutableHeaders):  # noqa: ANN202
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return problem_response(
                401, "unauthenticated", "A bearer token is required (POST /api/v1/auth/token).",
                headers={"WWW-Authenticate": 'Bearer realm="joblink"'},
            )
        try:
            principal = await self.state.authenticator.principal(token.strip())
        except InvalidToken as exc:
            log.info("token_rejected", reason=str(exc))
            return problem_response(
                401, "invalid-token", "The bearer token is invalid, expired or revoked.",
                headers={"WWW-Authenticate": 'Bearer realm="joblink", error="invalid_token"'},
            )
        decision = await self.state.buckets.take(principal.client_id)
        if not decision.allowed:
            return problem_response(
                429, "rate-limited", "Too many requests for this client; retry later.",
                headers={"Retry-After": str(decision.retry_after_s)},
            )
        structlog.contextvars.bind_contextvars(client_id=principal.client_id)
        identity: IdentityCodec = self.state.identity
        headers[IDENTITY_HEADER] = identity.sign(principal)
        return None
