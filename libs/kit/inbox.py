"""Inbox for idempotent consumers: (consumer, event id) is written with the effect."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import UtcDateTime, conflict_insert


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("received_at", UtcDateTime(), nullable=False),
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
        return event_id in await self.claim_many(session, consumer, [event_id])

    async def claim_many(self, session: AsyncSession, consumer: str, event_ids: list[str]) -> set[str]:
        """The subset of ``event_ids`` that is new for this consumer, claimed in one statement."""
        if not event_ids:
            return set()
        now = datetime.now(UTC)
        stmt = (
            conflict_insert(session, self.table)
            .values([{"consumer": consumer, "event_id": e, "received_at": now} for e in dict.fromkeys(event_ids)])
            .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
            .returning(self.table.c.event_id)
        )
        return set((await session.scalars(stmt)).all())
