"""Turns event handlers of a service into bus handlers with the inbox in the same transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kit.bus import Bus, Message
from kit.db import Database
from kit.events import Envelope, EventData, EventRegistry
from kit.inbox import Inbox

EventHandler = Callable[[AsyncSession, Envelope, EventData], Awaitable[None]]
log = structlog.get_logger("kit.consumers")


@dataclass
class EventConsumer:
    """One consumer group: handlers per event type; other types on its topics are skipped."""

    name: str
    topics: tuple[str, ...]
    handlers: dict[str, EventHandler]
    registry: EventRegistry
    db: Database
    inbox: Inbox

    async def __call__(self, message: Message) -> None:
        envelope = Envelope.from_bytes(message.value)
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return
        payload = self.registry.parse(envelope)
        async with self.db.transaction() as session:
            if await self.inbox.claim(session, self.name, envelope.id):
                await handler(session, envelope, payload)

    async def handle_batch(self, messages: Sequence[Message]) -> None:
        """Several messages in one transaction: all their effects commit together, or none."""
        parsed = []
        for message in messages:
            envelope = Envelope.from_bytes(message.value)
            handler = self.handlers.get(envelope.type)
            if handler is not None:
                parsed.append((handler, envelope, self.registry.parse(envelope)))
        if not parsed:
            return
        async with self.db.transaction() as session:
            new = await self.inbox.claim_many(session, self.name, [env.id for _h, env, _p in parsed])
            for handler, envelope, payload in parsed:
                if envelope.id in new:
                    new.discard(envelope.id)  # the same event twice in one batch applies once
                    await handler(session, envelope, payload)


async def replay(db: Database, bus: Bus, registry: EventRegistry, groups: dict[str, tuple[str, ...]],
                 handled: Collection[str], apply: EventHandler, batch: int = 1000) -> int:
    """Every event of the groups' topics from the beginning, group after group (in the order given:
    profiles before what refers to them), through ``apply``, a transaction per batch; what a read
    model's rebuild does once it has emptied itself. Returns how many events were applied and logs
    the count as it goes (``rebuild_progress``)."""
    applied = 0
    for topics in groups.values():
        async for messages in bus.replay(topics, batch):
            envelopes = [e for e in map(Envelope.from_bytes, (m.value for m in messages)) if e.type in handled]
            async with db.transaction() as session:
                for envelope in envelopes:
                    await apply(session, envelope, registry.parse(envelope))
            applied += len(envelopes)
            log.info("rebuild_progress", events=applied)
    return applied
