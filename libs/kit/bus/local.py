"""In-process backend of the bus for the embedded runtime and unit tests.

It is a small partitioned log kept in SQLite (a file, or ``:memory:`` in tests), with committed
offsets per consumer group, so it keeps Kafka's semantics: at-least-once delivery that survives
a restart, order per key, replay from the beginning for a new group, and DLQ topics.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Sequence

import aiosqlite
import orjson
import structlog

from kit.bus import Bus, Message, Subscription, deliver_all

log = structlog.get_logger("kit.bus.local")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    key TEXT NOT NULL, value BLOB NOT NULL, headers BLOB NOT NULL,
    PRIMARY KEY (topic, partition, "offset")
);
CREATE TABLE IF NOT EXISTS offsets (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, partition)
);
"""


def partition_for(key: str, partitions: int) -> int:
    """Stable across processes (unlike ``hash``), so a key always lands in the same partition."""
    return zlib.crc32(key.encode()) % partitions


class LocalBus(Bus):
    def __init__(self, path: str = ":memory:", partitions: int = 4, poll_interval_s: float = 1.0) -> None:
        super().__init__()
        self.path = path
        self.partitions = partitions
        self.poll_interval_s = poll_interval_s
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._next: dict[tuple[str, int], int] = {}
        self._appended: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def _connect(self) -> None:
        self._stopping = False
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=NORMAL")
        await self._db.executescript(_SCHEMA)
        await self._db.commit()
        async with self._db.execute(
            'SELECT topic, partition, MAX("offset") FROM log GROUP BY topic, partition'
        ) as rows:
            async for topic, partition, last in rows:
                self._next[(topic, partition)] = last + 1

    async def _run(self, subscription: Subscription) -> None:
        for topic in subscription.topics:
            for partition in range(self.partitions):
                self._tasks.append(asyncio.create_task(self._consume(subscription, topic, partition)))

    async def stop(self, grace_s: float = 10.0) -> None:
        """Let consumers finish the batch in hand, then stop; cancel only after the grace."""
        self._stopping = True
        for event in self._appended.values():
            event.set()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self._tasks.clear()
        if self._db is not None:
            await self._db.close()
            self._db = None
        self.started = False

    async def ping(self) -> None:
        if self._db is None:
            raise RuntimeError("bus not started")

    async def publish(self, messages: Sequence[Message]) -> None:
        if self._db is None:
            raise RuntimeError("bus not started")
        async with self._lock:
            rows = []
            next_offsets = dict(self._next)
            for m in messages:
                partition = partition_for(m.key, self.partitions)
                offset = next_offsets.get((m.topic, partition), 0)
                next_offsets[(m.topic, partition)] = offset + 1
                rows.append((m.topic, partition, offset, m.key, m.value, _encode_headers(m.headers)))
            await self._db.executemany(
                'INSERT INTO log (topic, partition, "offset", key, value, headers) VALUES (?,?,?,?,?,?)',
                rows,
            )
            await self._db.commit()
            self._next = next_offsets
        for topic in {m.topic for m in messages}:
            self._event(topic).set()

    async def replay(self, topics: Sequence[str], batch: int = 1000) -> AsyncIterator[list[Message]]:
        if self._db is None:
            raise RuntimeError("bus not started")
        ends = {tp: end for tp, end in self._next.items() if tp[0] in topics}
        for (topic, partition), end in sorted(ends.items()):
            position = 0
            while position < end:
                messages = [m for m in await self._fetch(topic, partition, position, min(batch, end - position))
                            if m.offset < end]
                if not messages:
                    break
                yield messages
                position = messages[-1].offset + 1

    def _event(self, topic: str) -> asyncio.Event:
        return self._appended.setdefault(topic, asyncio.Event())

    async def _committed(self, group: str, topic: str, partition: int) -> int:
        assert self._db is not None
        async with self._lock:
            async with self._db.execute(
                'SELECT "offset" FROM offsets WHERE grp=? AND topic=? AND partition=?',
                (group, topic, partition),
            ) as cursor:
                row = await cursor.fetchone()
        return row[0] if row else 0

    async def _fetch(self, topic: str, partition: int, offset: int, limit: int = 100) -> list[Message]:
        assert self._db is not None
        async with self._lock:
            async with self._db.execute(
                'SELECT "offset", key, value, headers FROM log '
                'WHERE topic=? AND partition=? AND "offset">=? ORDER BY "offset" LIMIT ?',
                (topic, partition, offset, limit),
            ) as cursor:
                rows = await cursor.fetchall()
        return [
            Message(
                topic=topic,
                key=key,
                value=value,
                headers=_decode_headers(raw),
                partition=partition,
                offset=off,
            )
            for off, key, value, raw in rows
        ]

    async def _commit(self, group: str, topic: str, partition: int, offset: int) -> None:
        assert self._db is not None
        async with self._lock:
            await self._db.execute(
                'INSERT INTO offsets (grp, topic, partition, "offset") VALUES (?,?,?,?) '
                'ON CONFLICT (grp, topic, partition) DO UPDATE SET "offset"=excluded."offset"',
                (group, topic, partition, offset),
            )
            await self._db.commit()

    async def _consume(self, subscription: Subscription, topic: str, partition: int) -> None:
        appended = self._event(topic)
        position = await self._committed(subscription.group, topic, partition)
        while not self._stopping:
            try:
                batch = await self._fetch(topic, partition, position)
                if not batch:
                    if self._stopping:
                        break
                    appended.clear()
                    # Re-check after clearing so a publish in between is not missed.
                    if not await self._fetch(topic, partition, position, limit=1):
                        try:
                            await asyncio.wait_for(appended.wait(), self.poll_interval_s)
                        except TimeoutError:
                            pass
                    continue
                await deliver_all(batch, subscription, self.publish)
                position = batch[-1].offset + 1
                await self._commit(subscription.group, topic, partition, position)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the DLQ could not be written; retry from the commit
                log.exception("consumer_loop_error", consumer=subscription.group, topic=topic)
                await asyncio.sleep(1)
                position = await self._committed(subscription.group, topic, partition)


def _encode_headers(headers: tuple[tuple[str, bytes], ...]) -> bytes:
    # latin-1 maps every byte to one code point, so any header value survives the JSON round trip.
    return orjson.dumps([[k, v.decode("latin-1")] for k, v in headers])


def _decode_headers(raw: bytes) -> tuple[tuple[str, bytes], ...]:
    return tuple((k, v.encode("latin-1")) for k, v in orjson.loads(raw))
