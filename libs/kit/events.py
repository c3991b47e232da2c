"""The event envelope (CloudEvents 1.0, JSON) and the registry of typed payloads."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kit.ids import random_ids

# Topic per event-type prefix: the contract of SPEC §7.
TOPICS: dict[str, str] = {
    "candidate": "candidates.v1",
    "employer": "vacancies.v1",
    "vacancy": "vacancies.v1",
    "jobfair": "jobfairs.v1",
    "invitation": "jobfairs.v1",
    "notification": "notifications.v1",
}
# invitation.responded is announced by notifications, so it lives on that service's topic. A
# candidate's contact details go only to the one service that sends messages, on a topic of their
# own that nothing else reads.
TOPIC_OVERRIDES: dict[str, str] = {
    "invitation.responded": "notifications.v1",
    "candidate.contact_changed": "candidates.contacts.v1",
    "candidate.contact_erased": "candidates.contacts.v1",
}


def topic_for(event_type: str) -> str:
    """The Kafka topic an event type is published on."""
    if event_type in TOPIC_OVERRIDES:
        return TOPIC_OVERRIDES[event_type]
    prefix = event_type.split(".", 1)[0]
    try:
        return TOPICS[prefix]
    except KeyError:
        raise ValueError(f"no topic for event type {event_type!r}") from None


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


class EventData(BaseModel):
    """Base class of every event payload: strict about unknown fields, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadEventData(EventData):
    """A payload as a consuming service reads another service's event: only the fields it uses,
    ignoring the rest, so the publisher may add fields without breaking its readers."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Envelope(BaseModel):
    """A CloudEvents 1.0 envelope; ``subject`` is the aggregate id and the Kafka key."""

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parse and validate an envelope; raises ``InvalidEvent`` on anything malformed."""
        try:
            return cls.model_validate(orjson.loads(raw))
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(f"malformed envelope: not JSON ({exc.msg})") from exc
        except ValidationError as exc:
            raise InvalidEvent(f"malformed envelope: {describe_errors(exc)}") from exc


class InvalidEvent(ValueError):
    """An event that can never be processed (bad JSON, envelope or payload)."""


class EncodedEnvelope(NamedTuple):
    """An envelope already serialised (``EventRegistry.encode_many``); the outbox takes it as it
    takes an ``Envelope``. (A named tuple: a job fair's run makes 100,000 of them.)"""

    id: str
    type: str
    subject: str
    raw: bytes

    def to_bytes(self) -> bytes:
        return self.raw


class EventRegistry:
    """Maps event types to payload models so producers and consumers validate the same way."""

    def __init__(self) -> None:
        self._models: dict[str, type[EventData]] = {}
        self._topics: dict[str, str] = {}

    def register(self, event_type: str, model: type[EventData], topic: str | None = None) -> None:
        """Declare a payload model; the topic defaults to the contract's topic for the type."""
        self._models[event_type] = model
        self._topics[event_type] = topic or topic_for(event_type)

    def types(self) -> list[str]:
        return list(self._models)

    def topic(self, event_type: str) -> str:
        try:
            return self._topics[event_type]
        except KeyError:
            raise InvalidEvent(f"unknown event type {event_type!r}") from None

    def model(self, event_type: str) -> type[EventData]:
        try:
            return self._models[event_type]
        except KeyError:
            raise InvalidEvent(f"unknown event type {event_type!r}") from None

    def envelope(self, source: str, subject: str, payload: EventData, event_type: str) -> Envelope:
        """Build an envelope around a validated payload."""
        if not isinstance(payload, self.model(event_type)):
            raise TypeError(f"{event_type} carries {self.model(event_type).__name__}")
        return Envelope(
            source=source, type=event_type, subject=subject, data=payload.model_dump(mode="json")
        )

    def encode_many(
        self, source: str, event_type: str, payloads: Iterable[tuple[str, dict[str, Any]]]
    ) -> list[EncodedEnvelope]:
        """Envelopes of many payloads of one type, given as (subject, payload fields), serialised:
        the bytes ``envelope(...).to_bytes()`` gives, each payload validated by its model, at a
        fraction of the cost: each payload is validated and serialised straight to JSON by
        pydantic-core (no dict in between), and the envelope's constant parts are serialised once.
        All share one ``time``, as they are the outcome of one operation (a job fair's run)."""
        model = self.model(event_type)
        payloads = list(payloads)
        for subject, _fields in payloads:
            if not isinstance(subject, str):
                raise TypeError(f"an event subject is a string, not {type(subject).__name__}")
        validate, to_json = model.__pydantic_validator__.validate_python, model.__pydantic_serializer__.to_json
        # The envelope serialised once around its three varying values (marked by a NUL, which
        # JSON writes as \u0000 and no constant field holds), then cut into constant pieces.
        head = Envelope(source=source, type=event_type, subject="\0", data={}).model_dump(mode="json")
        first, second, third, last = orjson.dumps({**head, "id": "\0", "data": "\0"}).split(b'"\\u0000"')
        dumps = orjson.dumps
        return [
            EncodedEnvelope(event_id, event_type, subject,
                            b"".join((first, dumps(event_id), second, dumps(subject), third, to_json(validate(fields)), last)))
            for (subject, fields), event_id in zip(payloads, random_ids(len(payloads)), strict=True)
        ]

    def parse(self, envelope: Envelope) -> EventData:
        """Validate an incoming envelope's data against its type's model."""
        try:
            return self.model(envelope.type).model_validate(envelope.data)
        except ValidationError as exc:
            raise InvalidEvent(f"{envelope.type} payload invalid: {describe_errors(exc)}") from exc


def describe_errors(exc: ValidationError) -> str:
    """Where and why validation failed, without echoing the values (they may be personal)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
    )
