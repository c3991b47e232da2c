"""Transactional outbox: events are rows written in the same transaction as the state change.

The table is a queue, not an archive: the relay deletes the rows it has published (Kafka keeps
the events). Deleting a row only marks it dead, where marking it sent wrote a new version of the
row and of its index entries; and personal data (contact details) leaves the database as soon as
it is on its way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import UtcDateTime, insert_records
from kit.events import EncodedEnvelope, Envelope, EventRegistry

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")


def outbox_table(metadata: MetaData) -> Table:
    """The outbox table in a service's own metadata (each service owns its copy)."""
    return Table(
        "outbox",
        metadata,
        Column("seq", SEQ_TYPE, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False),  # a random UUID
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
    )


class Outbox:
    """Writes events into the caller's transaction; the relay publishes them later."""

    def __init__(self, table: Table, registry: EventRegistry) -> None:
        self.table = table
        self.registry = registry

    async def add(self, session: AsyncSession, *envelopes: Envelope | EncodedEnvelope) -> None:
        """Stage events in the current transaction; they leave only if it commits."""
        if envelopes:
            await self.add_all(session, envelopes)

    async def add_all(self, session: AsyncSession, envelopes: Iterable[Envelope | EncodedEnvelope]) -> None:
        """``add`` for many; a generator is consumed as the rows are written (on PostgreSQL the
        events of a job fair's run are encoded while the database stores the first ones)."""
        now = datetime.now(UTC)
        topic = self.registry.topic
        await insert_records(
            session,
            self.table,
            ("event_id", "topic", "key", "event_type", "payload", "created_at"),
            ((env.id, topic(env.type), env.subject, env.type, env.to_bytes(), now) for env in envelopes),
        )
