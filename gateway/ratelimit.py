"""Per-client token buckets: in memory (embedded, one process) or in PostgreSQL, shared by
every gateway replica through one atomic upsert per request."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import Float, bindparam, text

from kit.db import Database


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int


class MemoryBuckets:
    def __init__(self, capacity: float, per_second: float) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self._buckets: dict[str, tuple[float, float]] = {}

    async def take(self, client_id: str) -> Decision:
        now = time.monotonic()
        tokens, last = self._buckets.get(client_id, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.per_second)
        allowed = tokens >= 1
        self._buckets[client_id] = (tokens - 1 if allowed else tokens, now)
        return Decision(allowed, 0 if allowed else math.ceil((1 - tokens) / self.per_second))


class PostgresBuckets:
    """The same bucket kept in the gateway's PostgreSQL database, so a client's limit holds however
    many gateways serve it. A request that may pass costs one statement: the upsert refills the
    bucket by the time since its last token (the database's clock, shared by the replicas) and
    takes one, under the row's lock; the row comes back only if a token was taken. A refused
    request reads the bucket again to say when to retry (a refused request costs two)."""

    TAKE = text(
        "INSERT INTO rate_buckets AS b (client_id, tokens, updated_at) "
        "VALUES (:client, :capacity - 1, extract(epoch from clock_timestamp())) "
        "ON CONFLICT (client_id) DO UPDATE "
        "SET tokens = least(:capacity, b.tokens + greatest(0, excluded.updated_at - b.updated_at) * :rate) - 1, "
        # a request that waited for the lock behind a later one does not move the clock back
        "updated_at = greatest(b.updated_at, excluded.updated_at) "
        "WHERE least(:capacity, b.tokens + greatest(0, excluded.updated_at - b.updated_at) * :rate) >= 1 "
        "RETURNING tokens"
    ).bindparams(bindparam("capacity", type_=Float), bindparam("rate", type_=Float))
    LEFT = text(
        "SELECT tokens, extract(epoch from clock_timestamp()) - updated_at AS elapsed "
        "FROM rate_buckets WHERE client_id = :client"
    )

    def __init__(self, db: Database, capacity: float, per_second: float) -> None:
        self.db = db
        self.capacity = capacity
        self.per_second = per_second

    async def take(self, client_id: str) -> Decision:
        if await self.db.execute(self.TAKE, {"client": client_id, "capacity": self.capacity, "rate": self.per_second}):
            return Decision(True, 0)
        left = await self.db.execute(self.LEFT, {"client": client_id})
        tokens = min(self.capacity, left[0].tokens + max(0.0, float(left[0].elapsed)) * self.per_second) if left else 0.0
        return Decision(False, max(1, math.ceil((1 - tokens) / self.per_second)))
