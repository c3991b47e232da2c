"""Registered API clients: secrets hashed with argon2, scopes, the centre they act for."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import Client
from kit.auth import SCOPES, Principal
from kit.db import Database

_hasher = PasswordHasher()
# Verifying against this when the client id is unknown keeps the response time the same.
_DUMMY_HASH = _hasher.hash("not-a-client-secret")


class ClientError(ValueError):
    pass


@dataclass(frozen=True)
class IssuedSecret:
    client_id: str
    client_secret: str


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def validate_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ClientError(f"unknown scope(s): {', '.join(unknown)}")
    return sorted(set(scopes))


class ClientRegistry:
    """Create, rotate, revoke and authenticate clients; a short cache serves per-request checks."""

    def __init__(self, db: Database, cache_ttl_s: float = 5.0) -> None:
        self.db = db
        self.cache_ttl_s = cache_ttl_s
        self._active: dict[str, tuple[float, bool]] = {}

    async def create(
        self, session: AsyncSession, name: str, scopes: list[str], centre_id: str | None, client_id: str | None = None,
        secret: str | None = None,
    ) -> IssuedSecret:
        client_id = client_id or "cl_" + secrets.token_hex(8)
        secret = secret or new_secret()
        if await session.get(Client, client_id) is not None:
            raise ClientError(f"client {client_id} exists")
        session.add(
            Client(
                client_id=client_id,
                name=name,
                secret_hash=_hasher.hash(secret),
                scopes=" ".join(validate_scopes(scopes)),
                centre_id=centre_id,
                status="active",
                created_at=datetime.now(UTC),
            )
        )
        return IssuedSecret(client_id, secret)

    async def ensure_admin(self, session: AsyncSession, client_id: str, secret: str) -> None:
        """Make the configured admin client exist, active, with the configured secret."""
        client = await session.get(Client, client_id)
        if client is None:
            await self.create(session, "Administrator", ["admin"], None, client_id, secret)
            return
        try:
            _hasher.verify(client.secret_hash, secret)
        except (VerificationError, InvalidHashError):
            client.secret_hash = _hasher.hash(secret)
            client.rotated_at = datetime.now(UTC)
        client.status, client.revoked_at, client.scopes = "active", None, "admin"

    async def rotate(self, session: AsyncSession, client_id: str) -> IssuedSecret:
        client = await self._get(session, client_id)
        secret = new_secret()
        client.secret_hash = _hasher.hash(secret)
        client.rotated_at = datetime.now(UTC)
        return IssuedSecret(client_id, secret)

    async def revoke(self, session: AsyncSession, client_id: str) -> None:
        client = await self._get(session, client_id)
        client.status = "revoked"
        client.revoked_at = datetime.now(UTC)
        self._active.pop(client_id, None)

    async def list(self, session: AsyncSession) -> list[Client]:
        return list((await session.scalars(select(Client).order_by(Client.created_at))).all())

    async def authenticate(self, session: AsyncSession, client_id: str, secret: str) -> Principal | None:
        """The client's principal when the secret matches an active client, else None."""
        client = await session.get(Client, client_id)
        try:
            _hasher.verify(client.secret_hash if client else _DUMMY_HASH, secret)
        except (VerificationError, InvalidHashError):
            return None
        if client is None or client.status != "active":
            return None
        return Principal(client.client_id, client.centre_id, frozenset(client.scopes.split()))

    async def is_active(self, client_id: str) -> bool:
        """Whether a token's client is still active (revocation takes effect within the TTL)."""
        now = time.monotonic()
        cached = self._active.get(client_id)
        if cached and now - cached[0] < self.cache_ttl_s:
            return cached[1]
        async with self.db.reading() as session:
            client = await session.get(Client, client_id)
        active = client is not None and client.status == "active"
        self._active[client_id] = (now, active)
        return active

    async def _get(self, session: AsyncSession, client_id: str) -> Client:
        client = await session.get(Client, client_id)
        if client is None:
            raise LookupError(client_id)
        return client
