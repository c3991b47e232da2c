"""Kafka backend of the bus (aiokafka): idempotent producer with acks=all, consumer groups with
manual offset commits after the handler, per-partition order, DLQ topics. With a namespace, every
topic and group name on the broker starts with it; the rest of the code never sees it."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence

import numpy as np
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import IllegalStateError, KafkaError, TopicAlreadyExistsError

from kit.bus import Bus, Message, Subscription, deliver_all
from kit.events import TOPIC_OVERRIDES, TOPICS, dlq_topic

log = structlog.get_logger("kit.bus.kafka")
BATCH = 100  # messages of one partition handled in one database transaction at most
_SEED, _M = 0x9747B28C, 0x5BD1E995  # murmur2 as in Kafka's Java client


def murmur2_many(keys: Sequence[bytes]) -> np.ndarray:
    """Kafka's murmur2 of every key (uint32), the same as ``aiokafka.partitioner.murmur2``.

    Vectorised over the keys of each length: a relay batch has thousands of distinct keys and
    the pure-Python hash costs more than sending the message itself.
    """
    hashes = np.empty(len(keys), np.uint32)
    by_length: dict[int, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        by_length[len(key)].append(i)
    for length, rows in by_length.items():
        data = np.frombuffer(b"".join(keys[i] for i in rows), np.uint8).reshape(len(rows), length)
        h = np.full(len(rows), _SEED ^ length, np.uint32)  # uint32 arithmetic wraps like Java's int
        whole = length - length % 4
        words = np.ascontiguousarray(data[:, :whole]).view("<u4")
        for j in range(whole // 4):
            k = words[:, j] * np.uint32(_M)
            k ^= k >> 24
            k *= np.uint32(_M)
            h *= np.uint32(_M)
            h ^= k
        tail = length % 4
        if tail >= 3:
            h ^= data[:, whole + 2].astype(np.uint32) << 16
        if tail >= 2:
            h ^= data[:, whole + 1].astype(np.uint32) << 8
        if tail >= 1:
            h ^= data[:, whole].astype(np.uint32)
            h *= np.uint32(_M)
        h ^= h >> 13
        h *= np.uint32(_M)
        h ^= h >> 15
        hashes[rows] = h
    return hashes


def partitions_for_keys(keys: Sequence[bytes], partitions: Sequence[int]) -> list[int]:
    """The partition Kafka's default partitioner picks for each key (any client agrees)."""
    ordered = sorted(partitions)
    indexes = (murmur2_many(keys) & 0x7FFFFFFF) % len(ordered)
    return [ordered[i] for i in indexes.tolist()]


def contract_topics() -> list[str]:
    """Every topic of the event contract (SPEC §7)."""
    return sorted(set(TOPICS.values()) | set(TOPIC_OVERRIDES.values()))


class KafkaBus(Bus):
    def __init__(
        self, bootstrap: str, client_id: str, partitions: int = 3, session_timeout_ms: int = 10000, namespace: str = ""
    ) -> None:
        super().__init__()
        self.namespace = namespace
        self.session_timeout_ms = session_timeout_ms
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.partitions = partitions
        self._producer: AIOKafkaProducer | None = None
        self._consumers: list[AIOKafkaConsumer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._known_topics: set[str] = set()

    async def ensure_topics(self, topics: Iterable[str]) -> None:
        """Create missing topics and their DLQs (idempotent). A consumer subscribed to an absent
        topic would not see it appear for minutes, so topics exist before anyone uses them."""
        wanted = {self.namespace + t for topic in topics for t in (topic, dlq_topic(topic)) if not t.endswith(".dlq.dlq")}
        if wanted <= self._known_topics:
            return
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=self.client_id)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = sorted(wanted - existing)
            if missing:
                try:
                    await admin.create_topics(
                        [NewTopic(t, num_partitions=self.partitions, replication_factor=1) for t in missing]
                    )
                except TopicAlreadyExistsError:
                    pass
        finally:
            await admin.close()
        self._known_topics |= wanted

    async def _connect(self) -> None:
        self._stopping.clear()
        await self.ensure_topics(contract_topics())
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=self.client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            # one request per partition carries a relay batch (the default 16 KiB holds ~25 events)
            max_batch_size=1024 * 1024,
            request_timeout_ms=15000,
        )
        await self._producer.start()

    async def _run(self, subscription: Subscription) -> None:
        await self.ensure_topics(subscription.topics)
        consumer = AIOKafkaConsumer(
            *(self.namespace + t for t in subscription.topics),
            bootstrap_servers=self.bootstrap,
            client_id=f"{self.client_id}.{subscription.group}",
            group_id=self.namespace + subscription.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
            # A handler with retries may take a while; keep the member in the group meanwhile.
            max_poll_interval_ms=300000,
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=max(500, self.session_timeout_ms // 4),
        )
        await consumer.start()
        self._consumers.append(consumer)
        self._tasks.append(asyncio.create_task(self._consume(consumer, subscription)))

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for consumer in self._consumers:
            await consumer.stop()
        if self._producer is not None:
            await self._producer.stop()
        self._tasks.clear()
        self._consumers.clear()
        self.started = False

    async def publish(self, messages: Sequence[Message]) -> None:
        if self._producer is None:
            raise RuntimeError("bus not started")
        if not messages:
            return
        await self.ensure_topics({m.topic for m in messages})
        # Record batches built here, one run per partition in the input's order, instead of one
        # producer.send() per message: send's per-message work (partitioner, accumulator) cost
        # more than the broker round trip.
        runs: dict[tuple[str, int], list[Message]] = defaultdict(list)
        for topic in {m.topic for m in messages}:
            mine = [m for m in messages if m.topic == topic]
            known = await self._producer.partitions_for(self.namespace + topic)  # waits for the topic's metadata
            partitions = partitions_for_keys([m.key.encode() for m in mine], known)
            for message, partition in zip(mine, partitions, strict=True):
                runs[(topic, partition)].append(message)
        futures = await asyncio.gather(*(self._send_run(topic, p, run) for (topic, p), run in runs.items()))
        await asyncio.gather(*(f for per_run in futures for f in per_run))

    async def _send_run(self, topic: str, partition: int, messages: list[Message]) -> list[asyncio.Future]:
        """Queue one partition's messages in order as full record batches; their ack futures."""
        assert self._producer is not None
        futures = []
        batch = self._producer.create_batch()
        for m in messages:
            # append refuses a message only when the batch is full (it always takes the first)
            if batch.append(key=m.key.encode(), value=m.value, timestamp=None, headers=list(m.headers)) is None:
                futures.append(await self._producer.send_batch(batch, self.namespace + topic, partition=partition))
                batch = self._producer.create_batch()
                batch.append(key=m.key.encode(), value=m.value, timestamp=None, headers=list(m.headers))
        if batch.record_count():
            batch.close()  # complete: sent now, not after the linger
            futures.append(await self._producer.send_batch(batch, self.namespace + topic, partition=partition))
        return futures

    async def ping(self) -> None:
        if self._producer is None:
            raise RuntimeError("bus not started")
        await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout=5)

    async def replay(self, topics: Sequence[str], batch: int = 1000) -> AsyncIterator[list[Message]]:
        if self._producer is None:
            raise RuntimeError("bus not started")
        await self.ensure_topics(topics)
        # The producer's metadata names the partitions (a consumer without a subscription keeps
        # none: its partitions_for_topic answers None even after topics()).
        wire = [self.namespace + t for t in topics]
        partitions = [TopicPartition(t, p) for t in wire for p in sorted(await self._producer.partitions_for(t))]
        # auto_offset_reset="earliest" as well as the seek: the reset that assign() starts by itself
        # may finish after seek_to_beginning and would otherwise move the position to the end.
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, client_id=f"{self.client_id}.replay",
                                    group_id=None, enable_auto_commit=False, max_poll_records=batch,
                                    auto_offset_reset="earliest")
        await consumer.start()
        try:
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.seek_to_beginning(*partitions)
            pending = {tp for tp in partitions if ends[tp] > 0}
            while pending:
                fetched = await consumer.getmany(*pending, timeout_ms=1000, max_records=batch)
                for tp, records in fetched.items():
                    messages = [self._message(r) for r in records if r.offset < ends[tp]]
                    if messages:
                        yield messages
                for tp in list(pending):
                    if await consumer.position(tp) >= ends[tp]:
                        pending.discard(tp)
        finally:
            await consumer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer, subscription: Subscription) -> None:
        while not self._stopping.is_set():
            try:
                batches = await consumer.getmany(timeout_ms=500, max_records=500)
                await asyncio.gather(
                    *(
                        self._process_partition(consumer, subscription, tp, records)
                        for tp, records in batches.items()
                    )
                )
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep consuming after a broker hiccup
                log.exception("consumer_loop_error", consumer=subscription.group)
                await asyncio.sleep(1)

    async def _process_partition(
        self,
        consumer: AIOKafkaConsumer,
        subscription: Subscription,
        tp: TopicPartition,
        records: list[ConsumerRecord],
    ) -> None:
        done = None
        try:
            for start in range(0, len(records), BATCH):
                chunk = records[start : start + BATCH]
                await deliver_all([self._message(r) for r in chunk], subscription, self.publish)
                done = chunk[-1].offset
        finally:
            if done is not None:
                await self._commit(consumer, tp, done + 1)
            if done is None or done != records[-1].offset:
                # Something failed before the end of the batch: re-read from the first message
                # not done, so nothing is skipped.
                try:
                    consumer.seek(tp, (done + 1) if done is not None else records[0].offset)
                except IllegalStateError:
                    pass  # the partition was revoked meanwhile; its next owner starts from the commit

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        try:
            await consumer.commit({tp: offset})
        except KafkaError as exc:
            # Lost the partition in a rebalance: its next owner re-reads from the last commit
            # and the inbox discards what was already applied.
            log.warning("offset_commit_failed", topic=tp.topic, partition=tp.partition, error=type(exc).__name__)

    def _message(self, record: ConsumerRecord) -> Message:
        return Message(
            topic=record.topic[len(self.namespace):],
            key=(record.key or b"").decode(),
            value=record.value or b"",
            headers=tuple(record.headers or ()),
            partition=record.partition,
            offset=record.offset,
        )
