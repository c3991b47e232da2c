"""Outbox → relay → bus → inbox, on SQLite with the in-process bus and on PostgreSQL with Kafka;
Kafka publishing of large batches."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator, Sequence

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner, murmur2
from sqlalchemy import func, select

from kit.bus import Message
from kit.bus.kafka import KafkaBus, murmur2_many, partitions_for_keys
from kit.bus.local import LocalBus
from kit.db import Database
from kit.events import EncodedEnvelope, Envelope
from kit.outbox import Outbox
from kit.relay import OutboxRelay
from tests.conftest import Backend, unique_topic, wait_for
from tests.kit.harness import create_tables, run_pair
from tests.kit.ledger import CREDITED, Account, Credited, LedgerBase, credit, ledger_outbox, make_registry


async def test_events_arrive_in_order_per_aggregate(backend: Backend) -> None:
    """1,000 events for 50 aggregates, written concurrently, arrive in per-aggregate order."""
    topic = unique_topic()
    async with run_pair(backend, topic) as run:
        accounts = [f"acct-{i:02d}" for i in range(50)]

        async def writer(mine: list[str]) -> None:
            rng = random.Random(mine[0])
            pending = {a: 20 for a in mine}
            while pending:
                async with run.ledger.db.transaction() as session:
                    for account in rng.sample(sorted(pending), k=min(3, len(pending))):
                        await credit(session, run.ledger.outbox, account, rng.randint(1, 9))
                        pending[account] -= 1
                        if not pending[account]:
                            del pending[account]

        await asyncio.gather(*(writer(accounts[i::5]) for i in range(5)))

        async def all_consumed() -> bool:
            return await run.consumed() == 1000

        await wait_for(all_consumed, timeout=60, what="1,000 events consumed")
        result = await run.totals()
        assert {a: t.last_seq for a, t in result.items()} == {a: 20 for a in accounts}
        assert sum(t.out_of_order for t in result.values()) == 0
        async with run.ledger.db.reading() as session:
            balances = dict((await session.execute(select(Account.id, Account.balance))).all())
        assert {a: t.amount for a, t in result.items()} == balances


async def test_rolled_back_transaction_publishes_nothing(backend: Backend) -> None:
    topic = unique_topic()
    async with run_pair(backend, topic) as run:
        with pytest.raises(RuntimeError):
            async with run.ledger.db.transaction() as session:
                await credit(session, run.ledger.outbox, "rolled-back", 5)
                raise RuntimeError("business rule failed after the event was staged")
        async with run.ledger.db.transaction() as session:
            await credit(session, run.ledger.outbox, "committed", 7)

        async def marker_consumed() -> bool:
            return "committed" in await run.totals()

        await wait_for(marker_consumed, what="the committed event")
        assert set(await run.totals()) == {"committed"}
        table = run.ledger.outbox.table
        async with run.ledger.db.reading() as session:
            # the committed event was published and left the outbox; the rolled-back one never entered it
            assert await session.scalar(select(func.count()).select_from(table)) == 0
            assert await session.get(Account, "rolled-back") is None


async def test_poison_message_goes_to_dlq_and_the_rest_flows(backend: Backend) -> None:
    topic = unique_topic()
    async with run_pair(backend, topic) as run:
        async with run.ledger.db.transaction() as session:
            await credit(session, run.ledger.outbox, "acct", 1)
        # A payload that fails validation, staged directly as a raw envelope on the same key.
        poison = Envelope(
            source="/test/ledger", type=CREDITED, subject="acct", data={"account": "acct", "amount": "lots"}
        )
        async with run.ledger.db.transaction() as session:
            await run.ledger.outbox.add(session, poison)
        async with run.ledger.db.transaction() as session:
            await credit(session, run.ledger.outbox, "acct", 2)
            await credit(session, run.ledger.outbox, "other", 3)

        async def drained() -> bool:
            return await run.consumed() == 3 and len(run.dead_letters) == 1

        await wait_for(drained, timeout=60, what="good events consumed and the poison dead-lettered")
        result = await run.totals()
        assert (result["acct"].amount, result["acct"].events) == (3, 2)
        assert result["other"].amount == 3
        dead = run.dead_letters[0]
        assert dead.topic == f"{topic}.dlq"
        assert dead.key == "acct"
        assert Envelope.from_bytes(dead.value).id == poison.id
        assert dead.header("joblink.consumer") == "tally"
        assert dead.header("joblink.attempts") == "3"
        assert dead.header("joblink.original_topic") == topic
        assert "amount" in dead.header("joblink.error")
        assert "lots" not in dead.header("joblink.error")  # values are not echoed


async def test_a_message_delivered_twice_is_applied_once(backend: Backend) -> None:
    topic = unique_topic()
    async with run_pair(backend, topic) as run:
        payload = Credited(account="dup", amount=4, seq=1)
        envelope = run.ledger.registry.envelope("/test/ledger", "dup", payload, CREDITED)
        message = Message(topic=topic, key="dup", value=envelope.to_bytes())
        await run.ledger_bus.publish([message, message])  # as a relay killed before marking would
        await run.ledger_bus.publish([message])
        async with run.ledger.db.transaction() as session:
            await credit(session, run.ledger.outbox, "marker", 1)

        async def marker_consumed() -> bool:
            return "marker" in await run.totals()

        await wait_for(marker_consumed, what="the marker event")
        dup = (await run.totals())["dup"]
        assert (dup.amount, dup.events) == (4, 1)


def test_kafka_partitioning_agrees_with_the_default_partitioner() -> None:
    """Keys land where Kafka's default partitioner (any client) puts them: murmur2, including
    non-ASCII keys and every tail length."""
    rng = random.Random(7)
    keys = [b"", "Thợ hàn".encode(), "東京".encode(), bytes(range(256))]
    keys += [rng.randbytes(rng.randint(0, 80)) for _ in range(5000)]
    keys += ["".join(chr(rng.randint(0x80, 0xD7FF)) for _ in range(rng.randint(1, 30))).encode() for _ in range(2000)]
    assert murmur2_many(keys).tolist() == [murmur2(k) for k in keys]
    for count in (1, 3, 12):
        partitions = list(range(count))
        assert partitions_for_keys(keys, set(partitions)) == [
            DefaultPartitioner()(k, partitions, partitions) for k in keys
        ]


async def test_a_large_kafka_batch_is_acknowledged_in_order_per_partition(kafka_bootstrap: str) -> None:
    """Several record batches per partition: once publish returns every message is on the
    broker, each in the default partitioner's partition, in input order within it."""
    topic = unique_topic()
    bus = KafkaBus(kafka_bootstrap, "test-batches", partitions=3)
    await bus.start()
    try:
        await bus.ensure_topics([topic])
        messages = [
            Message(topic=topic, key=f"agg-{i % 700}-ký", value=f"{i:06d}".encode() + b"x" * 300,
                    headers=(("seq", str(i).encode()),) if i % 2 else ())
            for i in range(12000)  # ≈ 1.2 MiB per partition: more than one 1 MiB batch
        ]
        await bus.publish(messages)
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None)
        await consumer.start()
        try:
            ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(3)])
        finally:
            await consumer.stop()
        assert sum(ends.values()) == len(messages)  # acknowledged before publish returned

        received = [m async for batch in bus.replay([topic]) for m in batch]
        expected: dict[int, list[Message]] = {0: [], 1: [], 2: []}
        for m in messages:
            expected[DefaultPartitioner()(m.key.encode(), [0, 1, 2], [0, 1, 2])].append(m)
        for partition, wanted in expected.items():
            got = [m for m in received if m.partition == partition]
            assert [(m.key, m.value, m.headers) for m in got] == [(m.key, m.value, m.headers) for m in wanted]
    finally:
        await bus.stop()


async def test_rows_stay_unpublished_when_the_bus_fails(backend: Backend) -> None:
    """The relay deletes a batch while the bus acknowledges it: a bus failure rolls the deletion back,
    and the next attempt publishes and deletes the same rows."""
    topic = unique_topic()
    url = await backend.new_database("relay")
    await create_tables(url, LedgerBase.metadata)
    db = Database(url)
    bus = backend.new_bus("test-relay")
    await bus.start()
    try:
        registry = make_registry(topic)
        outbox = Outbox(ledger_outbox, registry)
        async with db.transaction() as session:
            for seq in range(1, 4):
                payload = Credited(account="acct", amount=1, seq=seq)
                await outbox.add(session, registry.envelope("/test/ledger", "acct", payload, CREDITED))

        class Unreachable(LocalBus):
            async def publish(self, messages: Sequence[Message]) -> None:
                await asyncio.sleep(0.05)  # the deletion is under way meanwhile
                raise ConnectionError("broker down")

        failing = OutboxRelay("ledger", db, ledger_outbox, Unreachable())
        with pytest.raises(ConnectionError):
            await failing.publish_batch()
        relay = OutboxRelay("ledger", db, ledger_outbox, bus)
        assert await relay.backlog() == 3
        assert await relay.publish_batch() == 3
        assert await relay.backlog() == 0
        received = [m async for batch in bus.replay([topic]) for m in batch]
        assert [Envelope.from_bytes(m.value).data["seq"] for m in received] == [1, 2, 3]
    finally:
        await bus.stop()
        await db.dispose()


async def test_events_streamed_into_the_outbox_commit_all_or_nothing(backend: Backend) -> None:
    """``Outbox.add_all`` takes a generator (on PostgreSQL the COPY consumes it as it goes): a
    failure half-way leaves no row, and the session's connection serves the next transaction."""
    topic = unique_topic()
    url = await backend.new_database("stream")
    await create_tables(url, LedgerBase.metadata)
    db = Database(url, pool_size=1)
    registry = make_registry(topic)
    outbox = Outbox(ledger_outbox, registry)

    def events(fail_at: int | None) -> Iterator[EncodedEnvelope]:
        for start in range(0, 20_000, 5_000):
            if fail_at == start:
                raise RuntimeError("a payload could not be built")
            yield from registry.encode_many("/test/ledger", CREDITED, [
                (f"acct-{i}", {"account": f"acct-{i}", "amount": 1, "seq": i + 1}) for i in range(start, start + 5_000)])

    async def rows() -> int:
        async with db.reading() as session:
            return await session.scalar(select(func.count()).select_from(ledger_outbox))

    try:
        with pytest.raises(RuntimeError, match="could not be built"):
            async with db.transaction() as session:
                await outbox.add_all(session, events(fail_at=15_000))
        assert await rows() == 0
        async with db.transaction() as session:
            await outbox.add_all(session, events(fail_at=None))
        assert await rows() == 20_000
        async with db.reading() as session:
            first, last = (await session.execute(select(func.min(ledger_outbox.c.seq), func.max(ledger_outbox.c.seq)))).one()
            stored = await session.scalar(select(ledger_outbox.c.payload).where(ledger_outbox.c.seq == last))
        assert Envelope.from_bytes(stored).data == {"account": "acct-19999", "amount": 1, "seq": 20_000}
        assert last - first == 19_999  # in the generator's order
    finally:
        await db.dispose()


async def test_kafka_namespaces_keep_two_deployments_on_one_broker_apart(kafka_bootstrap: str) -> None:
    """With a namespace every topic and group on the broker starts with it, and the code still
    sees its own names: two deployments (or a benchmark beside a running stack) that use the same
    topics and groups never meet, dead letters included."""
    from aiokafka.admin import AIOKafkaAdminClient

    from kit.bus import RetryPolicy

    topic, tag = unique_topic(), unique_topic()
    seen: dict[str, list[Message]] = {"a": [], "b": []}
    buses = {name: KafkaBus(kafka_bootstrap, f"test-ns-{name}", partitions=1, namespace=f"{tag}-{name}.")
             for name in ("a", "b")}
    for name, bus in buses.items():
        async def keep(message: Message, name: str = name) -> None:
            if message.key == "poison":
                raise ValueError("cannot apply")
            seen[name].append(message)

        await bus.subscribe("same-group", [topic], keep, RetryPolicy(max_attempts=1, backoff_s=0.01))
        await bus.start()
    try:
        await buses["a"].publish([Message(topic=topic, key="k", value=b"for a"),
                                  Message(topic=topic, key="poison", value=b"bad")])
        await buses["b"].publish([Message(topic=topic, key="k", value=b"for b")])

        async def both() -> bool:
            return len(seen["a"]) == 1 and len(seen["b"]) == 1

        await wait_for(both, timeout=60, what="each deployment's own event")
        assert [(m.topic, m.value) for m in seen["a"]] == [(topic, b"for a")]
        assert [(m.topic, m.value) for m in seen["b"]] == [(topic, b"for b")]
        dead = [m async for batch in buses["a"].replay([f"{topic}.dlq"]) for m in batch]
        assert [(m.topic, m.key) for m in dead] == [(f"{topic}.dlq", "poison")]
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            on_broker = {t for t in await admin.list_topics() if topic in t}
        finally:
            await admin.close()
        assert on_broker == {f"{tag}-{n}.{topic}{dlq}" for n in ("a", "b") for dlq in ("", ".dlq")}
    finally:
        for bus in buses.values():
            await bus.stop()
