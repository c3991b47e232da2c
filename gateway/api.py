"""The gateway's own endpoints: OAuth2 client-credentials tokens, JWKS, API client admin."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from urllib.parse import unquote_plus
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway.clients import ClientError, ClientRegistry
from gateway.tokens import TokenIssuer
from kit.auth import Principal, ScopeName, require
from kit.problems import Problem, invalid

router = APIRouter()


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str


class OAuthError(BaseModel):
    error: str
    error_description: str


class ClientIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[ScopeName] = Field(min_length=1)
    centre_id: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class ClientSecret(BaseModel):
    client_id: str
    client_secret: str = Field(description="shown once; store it now")


class ClientOut(BaseModel):
    client_id: str
    name: str
    scopes: list[str]
    centre_id: str | None
    status: str
    created_at: datetime
    rotated_at: datetime | None


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    # RFC 6749 §5.2 fixes this body for the token endpoint.
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store", "WWW-Authenticate": 'Basic realm="joblink"'} if status == 401 else {"Cache-Control": "no-store"},
    )


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, sep, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else (None, None)


@router.post(
    "/api/v1/auth/token",
    tags=["auth"],
    response_model=TokenResponse,
    summary="OAuth2 client credentials",
    responses={400: {"model": OAuthError}, 401: {"model": OAuthError}},
)
async def token(
    request: Request,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    scope: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    """Credentials in the form body or, as RFC 6749 §2.3.1 prefers, in an HTTP Basic header."""
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")
    if client_id is None or client_secret is None:
        client_id, client_secret = _basic_credentials(request.headers.get("authorization", ""))
    if not client_id or not client_secret:
        return _oauth_error(401, "invalid_client", "client credentials are missing")
    registry: ClientRegistry = request.app.state.clients
    issuer: TokenIssuer = request.app.state.tokens
    async with request.app.state.db.reading() as session:
        principal = await registry.authenticate(session, client_id, client_secret)
    if principal is None:
        return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
    if scope:
        asked = frozenset(scope.split())
        if not asked <= principal.scopes and not principal.is_admin:
            return _oauth_error(400, "invalid_scope", "the client may not have: " + " ".join(sorted(asked - principal.scopes)))
        principal = Principal(principal.client_id, principal.centre_id, asked)
    body = TokenResponse(access_token=issuer.issue(principal), expires_in=issuer.ttl_s, scope=" ".join(sorted(principal.scopes)))
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store"})


@router.get("/.well-known/jwks.json", tags=["auth"], summary="Public keys that sign access tokens")
async def jwks(request: Request) -> dict[str, list[dict[str, str]]]:
    return request.app.state.tokens.jwks()


@router.post("/api/v1/clients", tags=["clients"], status_code=201, response_model=ClientSecret, summary="Create an API client")
async def create_client(body: ClientIn, request: Request, _admin: Principal = require("admin")) -> ClientSecret:
    registry: ClientRegistry = request.app.state.clients
    try:
        async with request.app.state.db.transaction() as session:
            issued = await registry.create(session, body.name, body.scopes, body.centre_id)
    except ClientError as exc:
        raise invalid([{"field": "scopes", "message": str(exc)}], str(exc)) from None
    return ClientSecret(client_id=issued.client_id, client_secret=issued.client_secret)


@router.get("/api/v1/clients", tags=["clients"], response_model=list[ClientOut], summary="API clients")
async def list_clients(request: Request, _admin: Principal = require("admin")) -> list[ClientOut]:
    async with request.app.state.db.reading() as session:
        clients = await request.app.state.clients.list(session)
    return [
        ClientOut(client_id=c.client_id, name=c.name, scopes=c.scopes.split(), centre_id=c.centre_id, status=c.status,
                  created_at=c.created_at, rotated_at=c.rotated_at)
        for c in clients
    ]


@router.post("/api/v1/clients/{client_id}:rotate", tags=["clients"], response_model=ClientSecret, summary="New secret")
async def rotate_client(client_id: str, request: Request, _admin: Principal = require("admin")) -> ClientSecret:
    try:
        async with request.app.state.db.transaction() as session:
            issued = await request.app.state.clients.rotate(session, client_id)
    except LookupError:
        raise Problem(404, "client-not-found", f"No client {client_id}.") from None
    return ClientSecret(client_id=issued.client_id, client_secret=issued.client_secret)


@router.post("/api/v1/clients/{client_id}:revoke", tags=["clients"], status_code=204, summary="Revoke a client")
async def revoke_client(client_id: str, request: Request, _admin: Principal = require("admin")) -> None:
    try:
        async with request.app.state.db.transaction() as session:
            await request.app.state.clients.revoke(session, client_id)
    except LookupError:
        raise Problem(404, "client-not-found", f"No client {client_id}.") from None
