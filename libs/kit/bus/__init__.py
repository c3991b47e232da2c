"""The event bus: one small interface, two backends (Kafka and a durable in-process log).

Both give the same guarantees: at-least-once delivery, order per key (the aggregate id), offsets
committed only after the handler returned (so after the consumer's own database commit), bounded
retries with backoff, then the message goes to ``<topic>.dlq`` with the error in its headers.
"""

from __future__ import annotations

import asyncio
import random
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import structlog

from kit import metrics
from kit.events import dlq_topic
from kit.logging import redact_text

log = structlog.get_logger("kit.bus")


class Message(NamedTuple):
    """One event on the bus. Immutable; a named tuple rather than a frozen dataclass because the
    relay makes one per event (a third of the cost to build)."""

    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int = -1
    offset: int = -1

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode()
        return None


Handler = Callable[[Message], Awaitable[None]]
BatchHandler = Callable[[Sequence[Message]], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff_s: float = 0.2
    backoff_max_s: float = 5.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter after the given failed attempt (1-based)."""
        ceiling = min(self.backoff_max_s, self.backoff_s * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


@dataclass
class Subscription:
    group: str
    topics: tuple[str, ...]
    handler: Handler
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    batch_handler: BatchHandler | None = None


class Bus(ABC):
    """Publish ordered batches; subscribe consumer groups before ``start``."""

    def __init__(self) -> None:
        self.subscriptions: list[Subscription] = []
        self.started = False

    async def subscribe(
        self,
        group: str,
        topics: Sequence[str],
        handler: Handler,
        policy: RetryPolicy | None = None,
        batch_handler: BatchHandler | None = None,
    ) -> None:
        """Add a consumer group; on a running bus it starts consuming at once. A
        ``batch_handler`` handles consecutive messages of a partition all or nothing (one
        database transaction); when it fails, they are handled one by one with ``handler``."""
        subscription = Subscription(group, tuple(topics), handler, policy or RetryPolicy(), batch_handler)
        self.subscriptions.append(subscription)
        if self.started:
            await self._run(subscription)

    async def start(self) -> None:
        await self._connect()
        self.started = True
        for subscription in self.subscriptions:
            await self._run(subscription)

    @abstractmethod
    async def _connect(self) -> None: ...

    @abstractmethod
    async def _run(self, subscription: Subscription) -> None:
        """Start consuming for one subscription in the background."""

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def publish(self, messages: Sequence[Message]) -> None:
        """Publish in order; returns once every message is durably accepted."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise when the bus is unreachable (used by /readyz)."""

    @abstractmethod
    def replay(self, topics: Sequence[str], batch: int = 1000) -> AsyncIterator[list[Message]]:
        """Every message of ``topics`` from the beginning up to the end as it is now, in
        batches, outside any consumer group (for rebuilding a read model); order per partition."""


def dead_letter(message: Message, group: str, error: BaseException, attempts: int) -> Message:
    """The DLQ copy of a message: same key and value, the failure described in headers."""
    text = redact_text(f"{type(error).__name__}: {error}")[:2000]
    headers = message.headers + (
        ("joblink.error", text.encode()),
        ("joblink.error_type", type(error).__name__.encode()),
        ("joblink.consumer", group.encode()),
        ("joblink.attempts", str(attempts).encode()),
        ("joblink.original_topic", message.topic.encode()),
        ("joblink.original_partition", str(message.partition).encode()),
        ("joblink.original_offset", str(message.offset).encode()),
    )
    return Message(topic=dlq_topic(message.topic), key=message.key, value=message.value, headers=headers)


async def deliver_all(
    messages: Sequence[Message],
    subscription: Subscription,
    publish: Callable[[Sequence[Message]], Awaitable[None]],
) -> None:
    """Deliver consecutive messages of one partition: as one batch when the subscription can,
    else (or when the batch fails) one by one with retries and the DLQ."""
    if subscription.batch_handler is not None and len(messages) > 1:
        try:
            await subscription.batch_handler(messages)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - find the culprit message by message
            log.info("event_batch_failed", consumer=subscription.group, size=len(messages), error=type(exc).__name__)
        else:
            metrics.CONSUMED.labels(subscription.group, messages[0].topic, "ok").inc(len(messages))
            return
    for message in messages:
        await deliver(message, subscription, publish)


async def deliver(
    message: Message,
    subscription: Subscription,
    publish: Callable[[Sequence[Message]], Awaitable[None]],
) -> None:
    """Run the handler with bounded retries; on the last failure publish to the DLQ.

    Returns when the message is done with (handled or dead-lettered), so the caller may commit
    its offset. Raises only when the DLQ itself cannot be reached; then nothing is committed.
    """
    policy = subscription.policy
    for attempt in range(1, policy.max_attempts + 1):
        try:
            await subscription.handler(message)
            metrics.CONSUMED.labels(subscription.group, message.topic, "ok").inc()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
            log.warning(
                "event_handler_failed",
                consumer=subscription.group,
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                attempt=attempt,
                error=type(exc).__name__,
            )
            if attempt == policy.max_attempts:
                await publish([dead_letter(message, subscription.group, exc, attempt)])
                metrics.CONSUMED.labels(subscription.group, message.topic, "dead_lettered").inc()
                log.error(
                    "event_dead_lettered",
                    consumer=subscription.group,
                    topic=message.topic,
                    offset=message.offset,
                    error=type(exc).__name__,
                )
                return
            await asyncio.sleep(policy.delay(attempt))
