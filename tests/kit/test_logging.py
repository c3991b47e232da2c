import json
import logging

import structlog

from kit.logging import configure_logging, redact_text


def test_redact_text_scrubs_ids_phones_and_emails() -> None:
    text = "CCCD 031095001234, ĐT 0912 345 678 / +84912345678, thư lan.nguyen@example.vn, mã 12345"
    out = redact_text(text)
    for secret in ("031095001234", "0912 345 678", "+84912345678", "lan.nguyen@example.vn"):
        assert secret not in out
    assert "mã 12345" in out and "CCCD" in out


def test_log_lines_never_carry_personal_data(capsys) -> None:  # noqa: ANN001
    configure_logging("INFO", json=True)
    structlog.get_logger("t").info(
        "candidate_registered", national_id="031095001234", phone="0912345678", note="gọi 0987654321", ward="31001"
    )
    logging.getLogger("stdlib").warning("from stdlib with a.b@c.vn")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    first, second = lines[-2], lines[-1]
    assert first["national_id"] == "[redacted]" and first["phone"] == "[redacted]"
    assert "0987654321" not in first["note"] and first["ward"] == "31001"
    assert "a.b@c.vn" not in second["event"]


def test_the_kafka_client_s_retries_are_logged_once_per_window_with_a_count() -> None:
    from kit.logging import Repeats

    now = [0.0]
    repeats = Repeats(window_s=30, clock=lambda: now[0])

    def record(name: str, msg: str, *args: object) -> logging.LogRecord:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)

    fetch = "Failed fetch messages from %s: %s"
    passed = [r for i in range(100) if repeats.filter(r := record("aiokafka.consumer.fetcher", fetch, 1, f"try {i}"))]
    assert len(passed) == 1 and passed[0].getMessage() == "Failed fetch messages from 1: try 0"
    assert repeats.filter(record("aiokafka.consumer.group_coordinator", "Heartbeat failed: %s", "x"))  # its own
    assert all(repeats.filter(record("matching", fetch, 1, "e")) for _ in range(3))  # our own logs: all of them
    now[0] = 31.0
    later = record("aiokafka.consumer.fetcher", fetch, 1, "try 100")
    assert repeats.filter(later)
    assert later.getMessage() == "Failed fetch messages from 1: try 100 (and 99 more like it in the last 31 s)"
    now[0] = 32.0
    assert not repeats.filter(record("aiokafka.consumer.fetcher", fetch, 1, "try 101"))
