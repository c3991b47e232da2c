"""Turns event handlers of a service into bus handlers with the inbox in the same transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from kit.bus import Message
from kit.db import Database
from kit.events import Envelope, EventData, EventRegistry
from kit.inbox import Inbox

EventHandler = Callable[[AsyncSession, Envelope, EventData], Awaitable[None]]


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
