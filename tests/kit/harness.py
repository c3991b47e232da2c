"""Runs the test ledger and tally services in this process on either backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import MetaData, func, select

from kit.app import ServiceContext, create_service_app
from kit.bus import Bus, Message
from kit.db import Database
from kit.settings import RuntimeSettings
from tests.conftest import Backend
from tests.kit.ledger import (
    LedgerBase,
    LedgerSettings,
    TallyBase,
    TallySettings,
    ledger_spec,
    tally_spec,
    totals,
)


async def create_tables(url: str, metadata: MetaData) -> None:
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await db.dispose()


@dataclass
class Running:
    ledger: ServiceContext
    tally: ServiceContext
    ledger_bus: Bus
    dead_letters: list[Message]

    async def totals(self):  # noqa: ANN201
        async with self.tally.db.reading() as session:
            return await totals(session)

    async def consumed(self) -> int:
        return sum(t.events for t in (await self.totals()).values())

    async def unpublished(self) -> int:
        table = self.ledger.outbox.table
        async with self.ledger.db.reading() as session:
            return await session.scalar(select(func.count()).select_from(table))


@asynccontextmanager
async def run_pair(backend: Backend, topic: str) -> AsyncIterator[Running]:
    ledger_url = await backend.new_database("ledger")
    tally_url = await backend.new_database("tally")
    await create_tables(ledger_url, LedgerBase.metadata)
    await create_tables(tally_url, TallyBase.metadata)
    runtime = RuntimeSettings()
    fast = {"relay_poll_interval_s": 0.05, "consumer_backoff_s": 0.01, "consumer_max_attempts": 3}
    ledger_bus = backend.new_bus("test-ledger")
    tally_bus = backend.new_bus("test-tally")
    dead_letters: list[Message] = []

    async def collect(message: Message) -> None:
        dead_letters.append(message)

    async with AsyncExitStack() as stack:
        for bus in {id(ledger_bus): ledger_bus, id(tally_bus): tally_bus}.values():
            await bus.start()
            stack.push_async_callback(bus.stop)
        await ledger_bus.subscribe("dlq-reader", [f"{topic}.dlq"], collect)
        apps: list[FastAPI] = [
            create_service_app(
                ledger_spec(topic), LedgerSettings(database_url=ledger_url, **fast), runtime, ledger_bus
            ),
            create_service_app(
                tally_spec(topic), TallySettings(database_url=tally_url, **fast), runtime, tally_bus
            ),
        ]
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield Running(apps[0].state.ctx, apps[1].state.ctx, ledger_bus, dead_letters)
