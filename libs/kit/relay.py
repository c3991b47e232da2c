"""Outbox relay: publishes a service's committed outbox rows in order and deletes them.

One batch is one database transaction: rows are read in ``seq`` order, then published (waiting
for the bus to acknowledge) while the database deletes them; the transaction commits only after
the acknowledgement. If the relay dies anywhere in between, the rows are still there and are
published again on restart; consumers drop the duplicates through their inbox.
On PostgreSQL a transaction-scoped advisory lock lets only one relay of a service publish at a
time, so running two relays never reorders an aggregate's events. (``seq`` order is commit
order for one aggregate because its writers serialise on the aggregate's own row.)
"""

from __future__ import annotations

import asyncio
import zlib

import structlog
from sqlalchemy import ARRAY, BigInteger, Table, any_, bindparam, delete, func, select, text
from sqlalchemy.dialects import postgresql

from kit import metrics
from kit.bus import Bus, Message
from kit.db import Database

log = structlog.get_logger("kit.relay")


class OutboxRelay:
    def __init__(
        self,
        service: str,
        db: Database,
        table: Table,
        bus: Bus,
        batch_size: int = 500,
        poll_interval_s: float = 0.2,
    ) -> None:
        self.service = service
        self.db = db
        self.table = table
        self.bus = bus
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self._lock_key = zlib.crc32(f"outbox-relay:{service}".encode())
        self._oldest = select(table.c.seq, table.c.topic, table.c.key, table.c.payload).order_by(table.c.seq).limit(batch_size)
        self._oldest_sql = str(self._oldest.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Called after a commit so new events leave without waiting for the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name=f"relay:{self.service}")

    async def stop(self, grace_s: float = 10.0) -> None:
        """Finish the batch in hand, then stop (cancelling only if it takes longer than the grace:
        a task cancelled inside a database call can leave its connection unusable)."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_s)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def run(self) -> None:
        while not self._stopping:
            try:
                published = await self.publish_batch()
                if published == self.batch_size and not self._stopping:
                    continue  # more waiting: no pause
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - bus or database down: keep trying
                log.exception("relay_batch_failed", service=self.service)
                await asyncio.sleep(1)
            if self._stopping:
                break
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
            except TimeoutError:
                pass

    async def publish_batch(self) -> int:
        """Publish one batch; returns how many events were published (0 when idle or locked)."""
        t = self.table
        async with self.db.transaction() as session:
            if self.db.dialect == "postgresql":
                got = await session.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": self._lock_key}
                )
                if not got:
                    return 0
                # The deletion need not wait for its WAL to reach the disk: lost in a crash, it
                # leaves rows that are published again, which consumers already expect (inbox).
                await session.execute(text("SET LOCAL synchronous_commit = off"))
                # The oldest rows, straight from the primary key (every row in the table is
                # unpublished), as the driver's records: no Row object per event.
                raw = await (await session.connection()).get_raw_connection()
                rows = await raw.driver_connection.fetch(self._oldest_sql)
            else:
                rows = (await session.execute(self._oldest)).all()
            if not rows:
                metrics.OUTBOX_BACKLOG.labels(self.service).set(0)
                return 0
            # Exactly the rows read: a range (seq BETWEEN first AND last) would also delete a row of
            # a transaction that committed meanwhile, unpublished, inside it.
            seqs = [r[0] for r in rows]
            if self.db.dialect == "postgresql":  # one array parameter, not thousands of values
                read = t.c.seq == any_(bindparam("seqs", seqs, type_=ARRAY(BigInteger())))
            else:
                read = t.c.seq.in_(seqs)
            # The database deletes the rows while the bus acknowledges them; the deletion is
            # committed only after both succeeded, and rolled back if the bus failed.
            outcomes = await asyncio.gather(
                self.bus.publish([Message(topic, key, bytes(payload)) for _seq, topic, key, payload in rows]),
                session.execute(delete(t).where(read)),
                return_exceptions=True,  # both finish before the transaction ends, either way
            )
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))
        metrics.OUTBOX_BACKLOG.labels(self.service).set(len(rows))
        return len(rows)

    async def backlog(self) -> int:
        async with self.db.reading() as session:
            return await session.scalar(select(func.count()).select_from(self.table)) or 0
