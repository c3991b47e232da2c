"""What a unit of work costs on PostgreSQL: one primary-key read, over and over, through
``Database.reading()`` (autocommit: a check of the pooled connection, then the statement), through
``Database.transaction()`` (how every read ran before: BEGIN, the statement, COMMIT, and a check
of the connection that itself costs BEGIN, ";" and ROLLBACK when connections rest in a
transaction-per-statement mode), and straight through asyncpg on one held connection (the floor).
Then what the gateway's shared rate limit costs each request: one token taken from a client's
bucket in PostgreSQL (``PostgresBuckets.take``).

    DATABASE_URL=postgresql+asyncpg://…/postgres python -m bench.units [--reads 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gateway.ratelimit import PostgresBuckets
from kit.db import Database
from tests.conftest import PostgresDatabases
from tests.gateway.harness import migrate_gateway

READ = "SELECT id, name FROM t WHERE id = :id"


async def timed(reads: int, one) -> float:  # noqa: ANN001
    """Median µs per read over five rounds."""
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for i in range(reads // 5):
            await one(i % 1000)
        rounds.append((time.perf_counter() - started) / (reads // 5) * 1e6)
    return statistics.median(rounds)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=5000)
    args = parser.parse_args()
    databases = PostgresDatabases(os.environ["DATABASE_URL"])
    url = await databases.create("bench_units")
    db = Database(url)
    raw = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE t (id int PRIMARY KEY, name text)"))
            await session.execute(text("INSERT INTO t SELECT g, 'Nguyễn Văn ' || g FROM generate_series(0, 999) g"))
        statement = text(READ)

        async def reading(i: int) -> None:
            async with db.reading() as session:
                (await session.execute(statement, {"id": i})).one()

        async def transaction(i: int) -> None:
            async with db.transaction() as session:
                (await session.execute(statement, {"id": i})).one()

        prepared = await raw.prepare("SELECT id, name FROM t WHERE id = $1")

        async def floor(i: int) -> None:
            await prepared.fetchrow(i)

        await migrate_gateway(url)
        buckets = PostgresBuckets(db, capacity=1e9, per_second=1e6)  # never refuses: the common path

        async def take(i: int) -> None:
            assert (await buckets.take(f"client-{i % 10}")).allowed

        for one in (reading, transaction, floor, take):  # warm
            await timed(500, one)
        figures = [("asyncpg, one held connection, prepared (the floor)", await timed(args.reads, floor)),
                   ("`Database.transaction()`: how reads ran before", await timed(args.reads, transaction)),
                   ("`Database.reading()`", await timed(args.reads, reading)),
                   ("a gateway rate-limit token (`PostgresBuckets.take`)", await timed(args.reads, take))]
    finally:
        await raw.close()
        await db.dispose()
        await databases.drop_all()
    print(f"\n{args.reads:,} units of work of each kind, one after another, PostgreSQL on this machine\n")
    print("| path | µs per unit of work | per second |")
    print("| --- | ---: | ---: |")
    for name, micros in figures:
        print(f"| {name} | {micros:,.0f} | {1e6 / micros:,.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
