"""Inbox for idempotent consumers: (consumer, event id) is written with the effect."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, MetaData, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("received_at", DateTime(timezone=True), nullable=False),
    )


class Inbox:
    """Claims an event for a consumer inside the transaction that applies its effect."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def claim(self, session: AsyncSession, consumer: str, event_id: str) -> bool:
        """True when this event is new for this consumer; False for a redelivery.

        On PostgreSQL a concurrent claim of the same event waits for the first transaction and
        then sees the conflict, so the effect can never be applied twice.
        """
        dialect = session.bind.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(self.table)
            .values(consumer=consumer, event_id=event_id, received_at=datetime.now(UTC))
            .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        )
        result = await session.execute(stmt)
        return result.rowcount == 1
