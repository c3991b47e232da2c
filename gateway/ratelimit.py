"""Per-client token buckets: in memory (embedded, one process) or in PostgreSQL, shared by
every gateway replica through one atomic upsert per request."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import text

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
    """The same bucket kept in the gateway's PostgreSQL database: the row lock serialises
    concurrent replicas, so a client's limit holds however many gateways serve it."""

    def __init__(self, db: Database, capacity: float, per_second: float) -> None:
        self.db = db
        self.capacity = capacity
        self.per_second = per_second

    async def take(self, client_id: str) -> Decision:
        params = {"client": client_id, "capacity": self.capacity}
        async with self.db.transaction() as session:
            await session.execute(
                text(
                    "INSERT INTO rate_buckets (client_id, tokens, updated_at) "
                    "VALUES (:client, :capacity, extract(epoch from clock_timestamp())) "
                    "ON CONFLICT (client_id) DO NOTHING"
                ),
                params,
            )
            row = (
                await session.execute(
                    text(
                        "SELECT tokens, extract(epoch from clock_timestamp()) - updated_at AS elapsed "
                        "FROM rate_buckets WHERE client_id = :client FOR UPDATE"
                    ),
                    params,
                )
            ).one()
            tokens = min(self.capacity, row.tokens + max(0.0, float(row.elapsed)) * self.per_second)
            allowed = tokens >= 1
            await session.execute(
                text(
                    "UPDATE rate_buckets SET tokens = :tokens, updated_at = extract(epoch from clock_timestamp()) "
                    "WHERE client_id = :client"
                ),
                {"client": client_id, "tokens": tokens - 1 if allowed else tokens},
            )
        return Decision(allowed, 0 if allowed else math.ceil((1 - tokens) / self.per_second))
