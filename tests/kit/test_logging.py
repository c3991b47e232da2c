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
