"""Exactly-once effects across crashes: the relay and the consumer run as separate processes
and are killed with SIGKILL mid-stream, then restarted."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select

from kit.db import Database
from kit.outbox import Outbox
from tests.conftest import unique_topic, wait_for
from tests.kit.harness import create_tables
from tests.kit.ledger import Account, LedgerBase, TallyBase, credit, ledger_outbox, make_registry, totals

ACCOUNTS = 50
CREDITS_EACH = 40
TOTAL = ACCOUNTS * CREDITS_EACH
REPO = Path(__file__).resolve().parents[2]


def spawn_worker(env: dict[str, str], log: Path, *targets: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "kit.cli", "worker", *targets],
            env={**os.environ, **env},
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill(process)


async def write_credits(db: Database, topic: str) -> dict[str, int]:
    outbox = Outbox(ledger_outbox, make_registry(topic))
    for round_ in range(CREDITS_EACH):
        async with db.transaction() as session:
            for i in range(ACCOUNTS):
                await credit(session, outbox, f"acct-{i:02d}", 1 + (i + round_) % 7)
    async with db.reading() as session:
        return dict((await session.execute(select(Account.id, Account.balance))).all())


async def unpublished(db: Database) -> int:
    async with db.reading() as session:
        return await session.scalar(select(func.count()).select_from(ledger_outbox))


async def consumed(db: Database) -> int:
    async with db.reading() as session:
        return sum(t.events for t in (await totals(session)).values())


async def assert_exact(tally: Database, balances: dict[str, int]) -> None:
    async with tally.reading() as session:
        result = await totals(session)
    assert {a: t.amount for a, t in result.items()} == balances
    assert {a: t.events for a, t in result.items()} == {a: CREDITS_EACH for a in balances}
    assert sum(t.out_of_order for t in result.values()) == 0


async def topic_size(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(3)])
    finally:
        await consumer.stop()
    return sum(ends.values())


async def group_lag(bootstrap: str, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(3)]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return sum(ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in tps)


async def test_exactly_once_with_kafka_when_relay_and_consumer_are_killed(
    pg_database, kafka_bootstrap, tmp_path
) -> None:  # noqa: ANN001
    topic = unique_topic()
    ledger_url, tally_url = await pg_database("ledger"), await pg_database("tally")
    await create_tables(ledger_url, LedgerBase.metadata)
    await create_tables(tally_url, TallyBase.metadata)
    ledger, tally = Database(ledger_url), Database(tally_url)
    env = {
        "JOBLINK_BUS": "kafka",
        "JOBLINK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "JOBLINK_KAFKA_SESSION_TIMEOUT_MS": "6000",
        "JOBLINK_TEST_TOPIC": topic,
        "JOBLINK_LEDGER_DATABASE_URL": ledger_url,
        "JOBLINK_LEDGER_RELAY_BATCH_SIZE": "100",
        "JOBLINK_LEDGER_RELAY_POLL_INTERVAL_S": "0.05",
        "JOBLINK_TALLY_DATABASE_URL": tally_url,
        "JOBLINK_TALLY_DELAY_MS": "1",
    }
    log = tmp_path / "workers.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        balances = await write_credits(ledger, topic)

        # Hold a row lock on one row of the first batch: the relay publishes that batch to Kafka
        # but blocks marking it sent, and is killed right there.
        async with ledger.engine.connect() as conn:
            transaction = await conn.begin()
            await conn.execute(select(ledger_outbox.c.seq).where(ledger_outbox.c.seq == 50).with_for_update())
            relay = spawn_worker(env, log, "tests.kit.ledger:ledger_from_env")
            processes.append(relay)

            async def first_batch_in_kafka() -> bool:
                return await topic_size(kafka_bootstrap, topic) >= 100

            await wait_for(first_batch_in_kafka, timeout=60, interval=0.2, what="the first batch in Kafka")
            assert await unpublished(ledger) == TOTAL  # published, not yet deleted
            kill(relay)
            await transaction.rollback()

        relay = spawn_worker(env, log, "tests.kit.ledger:ledger_from_env")
        processes.append(relay)

        async def all_published() -> bool:
            return await unpublished(ledger) == 0

        await wait_for(all_published, timeout=90, interval=0.2, what="the outbox drained")
        assert await topic_size(kafka_bootstrap, topic) >= TOTAL + 100  # the first batch went twice

        consumer = spawn_worker(env, log, "tests.kit.ledger:tally_from_env")
        processes.append(consumer)

        async def some_consumed() -> bool:
            return await consumed(tally) >= 300

        await wait_for(some_consumed, timeout=90, interval=0.02, what="the consumer under way")
        kill(consumer)
        assert await consumed(tally) < TOTAL, "the consumer finished before it could be killed"

        consumer = spawn_worker(env, log, "tests.kit.ledger:tally_from_env")
        processes.append(consumer)

        async def caught_up() -> bool:
            return await consumed(tally) >= TOTAL and await group_lag(kafka_bootstrap, "tally", topic) == 0

        await wait_for(caught_up, timeout=120, interval=0.3, what="the consumer caught up")
        await assert_exact(tally, balances)
    finally:
        for process in processes:
            stop(process)
        await ledger.dispose()
        await tally.dispose()
        print(log.read_text()[-3000:] if log.exists() else "")


async def test_exactly_once_embedded_when_the_process_is_killed(tmp_path) -> None:  # noqa: ANN001
    topic = unique_topic()
    ledger_url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    tally_url = f"sqlite+aiosqlite:///{tmp_path / 'tally.db'}"
    await create_tables(ledger_url, LedgerBase.metadata)
    await create_tables(tally_url, TallyBase.metadata)
    ledger, tally = Database(ledger_url), Database(tally_url)
    env = {
        "JOBLINK_BUS": "memory",
        "JOBLINK_VAR": str(tmp_path),
        "JOBLINK_TEST_TOPIC": topic,
        "JOBLINK_LEDGER_DATABASE_URL": ledger_url,
        "JOBLINK_LEDGER_RELAY_BATCH_SIZE": "100",
        "JOBLINK_TALLY_DATABASE_URL": tally_url,
        "JOBLINK_TALLY_DELAY_MS": "1",
    }
    log = tmp_path / "worker.log"
    targets = ("tests.kit.ledger:ledger_from_env", "tests.kit.ledger:tally_from_env")
    worker = None
    try:
        balances = await write_credits(ledger, topic)
        worker = spawn_worker(env, log, *targets)

        async def some_consumed() -> bool:
            return await consumed(tally) >= 300

        await wait_for(some_consumed, timeout=90, interval=0.02, what="the worker under way")
        kill(worker)
        assert await consumed(tally) < TOTAL, "the worker finished before it could be killed"

        worker = spawn_worker(env, log, *targets)

        def bus_drained() -> bool:
            with sqlite3.connect(tmp_path / "bus.db") as conn:
                ends = dict(
                    ((t, p), o + 1)
                    for t, p, o in conn.execute(
                        'SELECT topic, partition, MAX("offset") FROM log WHERE topic=? GROUP BY 1, 2', (topic,)
                    )
                )
                done = dict(
                    ((t, p), o)
                    for t, p, o in conn.execute(
                        'SELECT topic, partition, "offset" FROM offsets WHERE grp=\'tally\' AND topic=?', (topic,)
                    )
                )
            return ends == done

        async def caught_up() -> bool:
            return await unpublished(ledger) == 0 and await consumed(tally) >= TOTAL and bus_drained()

        await wait_for(caught_up, timeout=120, interval=0.2, what="the worker caught up")
        await assert_exact(tally, balances)
    finally:
        if worker is not None:
            stop(worker)
        await ledger.dispose()
        await tally.dispose()
