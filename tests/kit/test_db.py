"""The units of work on PostgreSQL: what writes runs in a READ COMMITTED transaction, on
``Database.engine`` as through ``transaction()``; a read runs its statements in autocommit (no
BEGIN and COMMIT of its own, each statement on a fresh snapshot as in READ COMMITTED), unless it
streams, which needs a transaction for its cursor. Pooled connections cut by the server: checked
and replaced when they rested, one failed unit of work (reported as unavailable) when busy."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

import kit.db
from kit.db import Database, unavailable


async def clock_moves(session) -> bool:  # noqa: ANN001
    """Whether two statements a moment apart see different transaction start times."""
    first = await session.scalar(text("SELECT now()"))
    await asyncio.sleep(0.02)
    return await session.scalar(text("SELECT now()")) != first


async def test_reads_run_without_a_transaction_and_writes_within_one(pg_database) -> None:  # noqa: ANN001
    db = Database(await pg_database("units"))
    try:
        async with db.transaction() as session:
            await session.execute(text("CREATE TABLE t (id int PRIMARY KEY)"))
            assert not await clock_moves(session)
            await session.execute(text("INSERT INTO t VALUES (1)"))
        async with db.reading() as session:
            assert await clock_moves(session)  # a statement is its own transaction
            assert await session.scalar(text("SELECT count(*) FROM t")) == 1
        async with db.reading(stream=True) as session:
            assert not await clock_moves(session)
            assert [row async for row in await session.stream_scalars(text("SELECT id FROM t"))] == [1]
        async with db.engine.connect() as conn, conn.begin():  # the engine itself is transactional too
            await conn.execute(text("INSERT INTO t VALUES (2)"))
            assert not await clock_moves(conn)
        with pytest.raises(IntegrityError):
            async with db.engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (3)"))
                await conn.execute(text("INSERT INTO t VALUES (1)"))  # a duplicate: the whole unit fails
        async with db.reading() as session:
            assert (await session.scalars(text("SELECT id FROM t ORDER BY id"))).all() == [1, 2]
    finally:
        await db.dispose()


async def backend(db: Database) -> int:
    async with db.reading() as session:
        return await session.scalar(text("SELECT pg_backend_pid()"))


async def cut(url: str, pid: int) -> None:
    """The server ends a connection, as a restart or a proxy's idle timeout would."""
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


async def test_a_rested_connection_that_was_cut_is_replaced_unseen(pg_database, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(kit.db, "CHECK_AFTER_REST_S", 0.05)
    url = await pg_database("rested")
    db = Database(url, pool_size=1)
    try:
        first = await backend(db)
        await cut(url, first)
        await asyncio.sleep(0.2)  # it rested: checked before use, found dead, replaced
        assert await backend(db) != first
    finally:
        await db.dispose()


async def test_a_busy_connection_cut_fails_one_unit_of_work_as_unavailable(pg_database) -> None:  # noqa: ANN001
    url = await pg_database("busy")
    db = Database(url, pool_size=1)
    try:
        first = await backend(db)
        await cut(url, first)  # used a moment ago: not checked again
        with pytest.raises(Exception) as failed:  # noqa: PT011 - whatever the driver raises
            await backend(db)
        assert unavailable(failed.value)  # a 503 with Retry-After for the client (kit.problems)
        assert await backend(db) != first  # the next unit of work gets a new connection
    finally:
        await db.dispose()
