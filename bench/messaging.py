"""Messaging throughput: outbox writes, relay publishing, and consumption with the inbox.

Runs on the embedded runtime (SQLite + in-process bus) and, when DATABASE_URL and
KAFKA_BOOTSTRAP are set (``make bench`` sets them), on PostgreSQL + Kafka. Each phase is timed
alone: the relay starts after all events are committed, the consumer after all are published.
The consumer is measured twice: one transaction per message (the baseline) and batched
transactions (up to 100 messages of a partition per transaction).

    python -m bench.messaging [--events 5000] [--aggregates 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

from sqlalchemy import func, select

from kit.app import create_service_app
from kit.bus import Bus
from kit.bus.kafka import KafkaBus
from kit.bus.local import LocalBus
from kit.db import Database
from kit.outbox import Outbox
from kit.settings import RuntimeSettings
from tests.conftest import PostgresDatabases
from tests.kit.harness import create_tables
from tests.kit.ledger import (
    LedgerBase,
    LedgerSettings,
    TallyBase,
    TallySettings,
    Total,
    credit,
    ledger_outbox,
    ledger_spec,
    make_registry,
    tally_spec,
)


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark phase did not finish")
        await asyncio.sleep(0.05)


async def run_backend(
    name: str,
    new_db: Callable[[str], Awaitable[str]],
    new_bus: Callable[[str], Bus],
    events: int,
    aggregates: int,
) -> list[tuple[str, str, int, float]]:
    topic = f"bench.ledger.{uuid.uuid4().hex[:8]}"
    ledger_url = await new_db("ledger")
    await create_tables(ledger_url, LedgerBase.metadata)
    ledger = Database(ledger_url)
    rows: list[tuple[str, str, int, float]] = []

    # 1. producer: state change + outbox row, 50 per transaction
    outbox = Outbox(ledger_outbox, make_registry(topic))
    started = time.perf_counter()
    per_tx = 50
    for start in range(0, events, per_tx):
        async with ledger.transaction() as session:
            for i in range(start, min(start + per_tx, events)):
                await credit(session, outbox, f"agg-{i % aggregates:05d}", 1 + i % 9)
    rows.append((name, "write state + outbox (50 events per transaction)", events, time.perf_counter() - started))

    runtime = RuntimeSettings()
    async with AsyncExitStack() as stack:
        bus = new_bus("bench-ledger")
        await bus.start()
        stack.push_async_callback(bus.stop)
        relay_app = create_service_app(
            ledger_spec(topic), LedgerSettings(database_url=ledger_url, relay_poll_interval_s=0.01), runtime, bus
        )
        started = time.perf_counter()
        await stack.enter_async_context(relay_app.router.lifespan_context(relay_app))

        async def published() -> bool:
            async with ledger.reading() as session:
                return not await session.scalar(select(func.count()).select_from(ledger_outbox))

        await until(published)
        rows.append((name, "relay: publish and delete (batches of 500)", events, time.perf_counter() - started))

        # 3. consumers: per message (baseline) and batched, each a fresh group and database
        for label, batched in (("one transaction per message (baseline)", False), ("batched transactions", True)):
            tally_url = await new_db("tally")
            await create_tables(tally_url, TallyBase.metadata)
            tally = Database(tally_url)
            consumer_bus = new_bus(f"bench-tally-{batched}")
            if consumer_bus is not bus:
                await consumer_bus.start()
            spec = tally_spec(topic)
            base = spec.consumers
            group = f"tally-{uuid.uuid4().hex[:6]}"

            def consumers(ctx, base=base, group=group):  # noqa: ANN001, ANN202
                found = base(ctx)
                for c in found:
                    c.name = group
                return found

            spec.consumers = consumers
            app = create_service_app(
                spec, TallySettings(database_url=tally_url, consumer_batch=batched, run_relay=False), runtime, consumer_bus
            )
            started = time.perf_counter()
            async with app.router.lifespan_context(app):

                async def consumed(tally: Database = tally) -> bool:
                    async with tally.reading() as session:
                        return (await session.scalar(select(func.sum(Total.events)))) == events

                await until(consumed)
                elapsed = time.perf_counter() - started
            if consumer_bus is not bus:
                await consumer_bus.stop()
            await tally.dispose()
            rows.append((name, f"consume with inbox: {label}", events, elapsed))
    await ledger.dispose()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--aggregates", type=int, default=500)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        shared = LocalBus(str(Path(tmp) / "bus.db"))

        async def sqlite(prefix: str) -> str:
            return f"sqlite+aiosqlite:///{Path(tmp) / uuid.uuid4().hex[:6]}-{prefix}.db"

        rows += await run_backend("SQLite + in-process bus", sqlite, lambda _c: shared, args.events, args.aggregates)
    if os.environ.get("DATABASE_URL") and os.environ.get("KAFKA_BOOTSTRAP"):
        databases = PostgresDatabases(os.environ["DATABASE_URL"])
        bootstrap = os.environ["KAFKA_BOOTSTRAP"]
        try:
            rows += await run_backend(
                "PostgreSQL + Kafka",
                databases.create,
                lambda client_id: KafkaBus(bootstrap, client_id, partitions=3),
                args.events,
                args.aggregates,
            )
        finally:
            await databases.drop_all()
    print(f"\n{args.events} events over {args.aggregates} aggregates, {os.cpu_count()} cores\n")
    print("| runtime | phase | events/s | seconds |")
    print("| --- | --- | ---: | ---: |")
    for backend, phase, n, seconds in rows:
        print(f"| {backend} | {phase} | {n / seconds:,.0f} | {seconds:.2f} |")


if __name__ == "__main__":
    asyncio.run(main())
