"""Shared fixtures: real PostgreSQL and Kafka when ``make test`` provides them, SQLite and the
in-process bus always. ``JOBLINK_TEST_REQUIRE_INFRA=1`` (set by ``make test``) turns a missing
server into a failure instead of a skip."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from kit.bus import Bus
from kit.bus.kafka import KafkaBus
from kit.bus.local import LocalBus

REQUIRE_INFRA = os.environ.get("JOBLINK_TEST_REQUIRE_INFRA") == "1"
PG_URL = os.environ.get("DATABASE_URL", "")
KAFKA = os.environ.get("KAFKA_BOOTSTRAP", "")
# Matching services started by tests do not compile the batch kernel in a child at start: dozens
# of starts would each spawn one (tests/matching/test_warm_up.py covers it).
os.environ.setdefault("JOBLINK_MATCHING_WARM_UP_KERNEL", "false")


def _need(value: str, what: str) -> str:
    if not value:
        if REQUIRE_INFRA:
            pytest.fail(f"{what} is required (make test provides it)")
        pytest.skip(f"{what} not configured; run through `make test`")
    return value


async def wait_for(
    condition: Callable[[], Awaitable[bool]], timeout: float = 30, interval: float = 0.05, what: str = ""
) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")


class PostgresDatabases:
    """Creates fresh PostgreSQL databases for a test and drops them afterwards."""

    def __init__(self, server_url: str) -> None:
        self.base = make_url(server_url)
        self.created: list[str] = []

    def _dsn(self, db: str) -> str:
        return self.base.set(drivername="postgresql", database=db).render_as_string(hide_password=False)

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self._dsn(self.base.database or "postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self, prefix: str) -> str:
        name = f"t_{prefix}_{uuid.uuid4().hex[:10]}"
        await self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.base.set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False
        )

    async def drop_all(self) -> None:
        for name in self.created:
            for attempt in range(40):
                try:
                    await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    break
                except asyncpg.InsufficientPrivilegeError:
                    # an autovacuum worker is in the database; FORCE may not end it: it soon ends itself
                    if attempt == 39:
                        raise
                    await asyncio.sleep(0.25)


@pytest.fixture
async def pg_database() -> AsyncIterator[Callable[[str], Awaitable[str]]]:
    """Factory of fresh PostgreSQL databases (dropped afterwards); returns their async URL."""
    databases = PostgresDatabases(_need(PG_URL, "DATABASE_URL (PostgreSQL)"))
    yield databases.create
    await databases.drop_all()


@pytest.fixture
def kafka_bootstrap() -> str:
    return _need(KAFKA, "KAFKA_BOOTSTRAP (Apache Kafka)")


@dataclass
class Backend:
    """One of the two runtimes: PostgreSQL + Kafka, or SQLite + the in-process bus."""

    kind: str
    new_database: Callable[[str], Awaitable[str]]
    new_bus: Callable[[str], Bus]
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture(params=["embedded", "distributed"])
async def backend(request, tmp_path) -> AsyncIterator[Backend]:  # noqa: ANN001
    """Each scenario runs twice: SQLite + in-process bus, then PostgreSQL + Kafka."""
    if request.param == "distributed":
        databases = PostgresDatabases(_need(PG_URL, "DATABASE_URL (PostgreSQL)"))
        bootstrap = _need(KAFKA, "KAFKA_BOOTSTRAP (Apache Kafka)")
        yield Backend(
            "distributed",
            databases.create,
            lambda client_id: KafkaBus(bootstrap, client_id, partitions=3),
            {"JOBLINK_BUS": "kafka", "JOBLINK_KAFKA_BOOTSTRAP": bootstrap},
        )
        await databases.drop_all()
        return
    shared = LocalBus(str(tmp_path / "bus.db"))

    async def sqlite(prefix: str) -> str:
        return f"sqlite+aiosqlite:///{tmp_path / prefix}.db"

    yield Backend(
        "embedded", sqlite, lambda _client_id: shared, {"JOBLINK_BUS": "memory", "JOBLINK_VAR": str(tmp_path)}
    )


def unique_topic() -> str:
    return f"test.ledger.{uuid.uuid4().hex[:12]}"
