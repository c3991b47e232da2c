"""structlog configuration: JSON lines, a request id, and redaction of personal data."""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable
from typing import Any

import structlog

SENSITIVE_KEYS = frozenset(
    {"national_id", "phone", "email", "password", "client_secret", "secret", "authorization", "token"}
)
REDACTED = "[redacted]"

# Citizen IDs (12 digits), Vietnamese phone numbers (+84 / 84 / 0 followed by 9 digits, spaces or
# dots allowed) and e-mail addresses anywhere inside a string.
_PATTERNS = (
    re.compile(r"(?<!\d)\d{12}(?!\d)"),
    re.compile(r"(?<![\w+])(?:\+?84|0)(?:[\s.-]?\d){9,10}(?!\d)"),
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
)


def redact_text(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def _redact(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redact_personal_data(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: blank sensitive keys and scrub IDs, phones and e-mails from values."""
    return {k: _redact(v, k) for k, v in event_dict.items()}


class Repeats(logging.Filter):
    """Lets each message of the chatty libraries (the Kafka client above all: while a broker is
    away it logs every retry, about 150 lines a second across the services) through once per
    ``window_s``; the next one that passes says how many were held back. A message is its
    logger and its template, whatever its arguments."""

    PREFIXES = ("aiokafka", "kafka")

    def __init__(self, window_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window_s = window_s
        self.clock = clock
        self._last: dict[tuple[str, str], tuple[float, int]] = {}  # (logger, template) → (passed at, held since)

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.PREFIXES):
            return True
        key, now = (record.name, str(record.msg)), self.clock()
        passed_at, held = self._last.get(key, (None, 0))
        if passed_at is not None and now - passed_at < self.window_s:
            self._last[key] = (passed_at, held + 1)
            return False
        self._last[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} (and {held} more like it in the last {now - passed_at:.0f} s)"
        return True


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """Set up structlog and route the standard library's logging through the same pipeline."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_personal_data,
    ]
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(Repeats())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
    # uvicorn's access log would put raw URLs (with ids and query strings) in the log.
    logging.getLogger("uvicorn.access").disabled = True
