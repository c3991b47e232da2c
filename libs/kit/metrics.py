"""Prometheus metrics shared by the kit; labels never carry personal data or raw paths."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "joblink_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "joblink_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)
OUTBOX_PUBLISHED = Counter("joblink_outbox_published_total", "Events published by the relay", ["service"])
OUTBOX_BACKLOG = Gauge("joblink_outbox_backlog", "Unpublished outbox rows seen by the relay", ["service"])
CONSUMED = Counter(
    "joblink_events_consumed_total", "Messages handled by consumers", ["consumer", "topic", "outcome"]
)
