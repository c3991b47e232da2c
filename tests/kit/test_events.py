import orjson
import pytest

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
