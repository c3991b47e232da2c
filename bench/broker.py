"""A benchmark's own corner of the local Kafka broker: a namespace (``JOBLINK_KAFKA_NAMESPACE``)
that every topic and consumer group of its services starts with, so that it neither reads nor
feeds a stack running beside it (``make up``) or what earlier runs left. Its topics are deleted
at the end; its emptied consumer groups expire with the broker's offset retention."""

from __future__ import annotations

import uuid

from aiokafka.admin import AIOKafkaAdminClient


def new_namespace() -> str:
    return f"bench-{uuid.uuid4().hex[:8]}."


async def drop_namespace(bootstrap: str, namespace: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(namespace)]
        if topics:
            await admin.delete_topics(topics)
    finally:
        await admin.close()
