from datetime import date

import orjson
import pytest
from pydantic import ValidationError

from kit.events import Envelope, EventData, EventRegistry, InvalidEvent, topic_for


class Opened(EventData):
    vacancy_id: str
    title: str


def test_envelope_round_trip_keeps_vietnamese_text() -> None:
    registry = EventRegistry()
    registry.register("vacancy.opened", Opened)
    env = registry.envelope("/vacancies", "v-1", Opened(vacancy_id="v-1", title="Thợ hàn bậc 3"), "vacancy.opened")
    back = Envelope.from_bytes(env.to_bytes())
    assert back == env
    assert registry.parse(back) == Opened(vacancy_id="v-1", title="Thợ hàn bậc 3")
    raw = orjson.loads(env.to_bytes())
    assert raw["specversion"] == "1.0" and raw["datacontenttype"] == "application/json"
    assert {"id", "source", "type", "subject", "time", "data"} <= raw.keys()


def test_contract_topics() -> None:
    assert topic_for("candidate.erased") == "candidates.v1"
    assert topic_for("employer.registered") == "vacancies.v1"
    assert topic_for("invitation.issued") == "jobfairs.v1"
    assert topic_for("invitation.responded") == "notifications.v1"
    with pytest.raises(ValueError):
        topic_for("salary.paid")


def test_invalid_payload_is_described_without_its_values() -> None:
    registry = EventRegistry()
    registry.register("vacancy.opened", Opened)
    env = Envelope(source="/x", type="vacancy.opened", subject="v", data={"vacancy_id": "v", "title": 12345678901})
    with pytest.raises(InvalidEvent) as err:
        registry.parse(env)
    assert "title" in str(err.value) and "12345678901" not in str(err.value)


@pytest.mark.parametrize("raw", [b"not json", b"{}", b'{"type": "x"}'])
def test_malformed_envelopes_are_rejected(raw: bytes) -> None:
    with pytest.raises(InvalidEvent):
        Envelope.from_bytes(raw)


def test_registry_refuses_a_payload_of_the_wrong_type() -> None:
    registry = EventRegistry()
    registry.register("vacancy.opened", Opened)
    registry.register("vacancy.closed", Opened)

    class Other(EventData):
        x: int

    with pytest.raises(TypeError):
        registry.envelope("/v", "v", Other(x=1), "vacancy.opened")


class Shift(EventData):
    id: str
    seats: int


class Invited(EventData):
    invitation_id: str
    title: str
    on: date
    shift: Shift
    detail: str | None
    score: float
    tags: list[str] = []


def test_encode_many_gives_the_bytes_that_envelope_gives() -> None:
    """The bulk path changes nothing on the wire: field order, dates, nested payloads, defaults,
    Vietnamese text, floats and the envelope's own fields are exactly ``envelope().to_bytes()``."""
    registry = EventRegistry()
    registry.register("invitation.issued", Invited)
    payloads = [
        ("i-1", {"invitation_id": "i-1", "title": "Thợ hàn bậc 3", "on": date(2027, 1, 10),
                 "shift": {"id": "s1", "seats": 40}, "detail": None, "score": 0.1 + 0.2}),
        ("i-2", {"title": "Kế toán \"trưởng\"\n", "invitation_id": "i-2", "on": "2027-01-11",  # any order, lax as today
                 "shift": Shift(id="s2", seats=1), "detail": "Nhà văn hoá", "score": 1e16, "tags": ["a"]}),
    ]
    encoded = registry.encode_many("/joblink/matching", "invitation.issued", payloads)
    assert [(e.type, e.subject) for e in encoded] == [("invitation.issued", "i-1"), ("invitation.issued", "i-2")]
    assert len({e.id for e in encoded}) == 2
    for event, (subject, fields) in zip(encoded, payloads, strict=True):
        parsed = Envelope.from_bytes(event.to_bytes())
        assert parsed.id == event.id
        expected = registry.envelope("/joblink/matching", subject, Invited(**fields), "invitation.issued")
        same_id_and_time = expected.model_copy(update={"id": parsed.id, "time": parsed.time})
        assert event.to_bytes() == same_id_and_time.to_bytes()


def test_encode_many_validates_every_payload() -> None:
    registry = EventRegistry()
    registry.register("vacancy.opened", Opened)
    good = ("v-1", {"vacancy_id": "v-1", "title": "Thợ may"})
    with pytest.raises(ValidationError):
        registry.encode_many("/vacancies", "vacancy.opened", [good, ("v-2", {"vacancy_id": "v-2", "title": 3})])
    with pytest.raises(ValidationError):
        registry.encode_many("/vacancies", "vacancy.opened", [("v-3", {"vacancy_id": "v-3", "title": "x", "extra": 1})])
    with pytest.raises(TypeError):
        registry.encode_many("/vacancies", "vacancy.opened", [(42, {"vacancy_id": "v-4", "title": "x"})])
    with pytest.raises(InvalidEvent):
        registry.encode_many("/vacancies", "vacancy.closed", [good])
