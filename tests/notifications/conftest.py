"""The notifications service behind a real gateway (SQLite and PostgreSQL) with real receivers: an
SMTP server (aiosmtpd) and an HTTP server standing in for the SMS gateway and the mobile-app
backend, which keeps messages once per idempotency key, like the real ones, and fails on demand."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr

from gateway.app import create_app
from kit.bus import Message
from kit.bus.local import LocalBus
from kit.events import Envelope
from kit.migrations import upgrade
from kit.settings import RuntimeSettings
from services.candidates.events import ContactChanged, registry as candidate_events
from services.matching.events import InvitationIssued, InvitationRevoked, Slot, registry as matching_events
from services.notifications.app import SPEC, create_app as create_notifications
from services.notifications.service import Notifier
from services.notifications.settings import NotificationsSettings
from services.vacancies.events import EmployerRegistered, registry as vacancy_events
from tests.conftest import PG_URL, PostgresDatabases, _need
from tests.gateway.harness import INTERNAL_KEY, Gateway, make_gateway_settings, migrate_gateway

WEBHOOK_SECRET = "app-webhook-secret-for-tests"
INBOUND_SECRET = "sms-inbound-secret-for-tests"
WARD = "11311"  # Phường Hồng Bàng, Hải Phòng (post-2025)
FAIR_DAY = date(2026, 12, 10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- receivers ---------------------------------------------------------------------------------
class SmtpSink:
    """An SMTP server that keeps what it is given; ``refuse`` holds recipients it answers 550 to."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class HttpSink:
    """The SMS gateway and the app backend: one JSON POST endpoint each; a repeated idempotency
    key gets the first answer again and adds nothing. ``fail`` queues statuses to answer with."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []  # every request, repeats included
        self.accepted: dict[str, dict[str, Any]] = {}  # idempotency key → the message
        self.fail: dict[str, list[int]] = {"/sms": [], "/app": []}
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                key = self.headers.get("idempotency-key", "")
                with sink.lock:
                    sink.requests.append({"path": self.path, "key": key, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                    failures = sink.fail.get(self.path, [])
                    status = failures.pop(0) if failures else 200
                    if status == 200 and key not in sink.accepted:
                        sink.accepted[key] = {"path": self.path, "body": body, "headers": {k.lower(): v for k, v in self.headers.items()}}
                answer = json.dumps({"id": f"msg-{key}"} if status == 200 else {"error": "refused"}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def messages(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.accepted.values() if m["path"] == path]


# ---- time ----------------------------------------------------------------------------------------
@dataclass
class ShiftedClock:
    """Real time moved by ``offset`` (the dispatcher runs on its own timer, so time must flow)."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set(self, at: datetime) -> None:
        self.offset = at - datetime.now(UTC)


def vietnam_time(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=7)


@dataclass
class Notifications(Gateway):
    bus: LocalBus
    ctx: Any
    smtp: SmtpSink
    sink: HttpSink
    clock: ShiftedClock
    events: list[Message] = field(default_factory=list)
    gateway_app: Any = None  # to serve over real HTTP (a browser)

    @property
    def notifier(self) -> Notifier:
        return self.ctx.extras["notifier"]

    async def publish(self, topic: str, *envelopes: Envelope) -> None:
        await self.bus.publish([Message(topic, e.subject, e.to_bytes()) for e in envelopes])

    async def contact(self, candidate_id: str, version: int = 1, consent: bool = True, channels: list[str] | None = None,
                      phone: str | None = "+84912345678", email: str | None = "lan.nguyen@example.vn",
                      erased: bool = False) -> None:
        payload = ContactChanged(candidate_id=candidate_id, version=version, notifications=consent,
                                 full_name="Nguyễn Thị Lan" if consent else None, phone=phone if consent else None,
                                 email=email if consent else None, channels=channels or [])
        kind = "candidate.contact_erased" if erased else "candidate.contact_changed"
        await self.publish("candidates.contacts.v1",
                           candidate_events.envelope("/services/candidates", candidate_id, payload, kind))

    async def employer(self, employer_id: str, name: str = "Công ty TNHH Cơ khí Đông Hải") -> None:
        payload = EmployerRegistered(employer_id=employer_id, centre_id=None, name=name, tax_code="0301234567",
                                     industry="C", fdi=False, ward_code=WARD, legacy_district_code=None, lat=None,
                                     lon=None)
        await self.publish("vacancies.v1", vacancy_events.envelope("/services/vacancies", employer_id, payload,
                                                                   "employer.registered"))

    def issued(self, invitation_id: str, candidate_id: str, employer_id: str = "emp-1",
               title: str = "Thợ hàn điện bậc 3") -> Envelope:
        payload = InvitationIssued(
            invitation_id=invitation_id, job_fair_id="fair-1", candidate_id=candidate_id, vacancy_id="vac-1",
            vacancy_title=title, employer_id=employer_id, fair_date=FAIR_DAY,
            slot=Slot(id="s1", start="08:00", end="10:00", seats=100), venue_ward_code=WARD,
            venue_detail="Nhà văn hoá phường",
        )
        return matching_events.envelope("/services/matching", invitation_id, payload, "invitation.issued")

    async def issue(self, invitation_id: str, candidate_id: str, **kwargs: Any) -> Envelope:
        envelope = self.issued(invitation_id, candidate_id, **kwargs)
        await self.publish("jobfairs.v1", envelope)
        return envelope

    async def revoke(self, invitation_id: str, candidate_id: str) -> None:
        payload = InvitationRevoked(invitation_id=invitation_id, job_fair_id="fair-1", candidate_id=candidate_id,
                                    reason="vacancy_closed")
        await self.publish("jobfairs.v1", matching_events.envelope("/services/matching", invitation_id, payload,
                                                                   "invitation.revoked"))

    async def dispatch(self) -> int:
        """Run the dispatcher once now (it also runs on its own timer)."""
        return await self.notifier.dispatch(self.ctx.db, 500, 16)

    async def state(self, invitation_id: str, admin: dict[str, str]) -> dict[str, Any]:
        """The invitation's delivery record, once the event has been consumed."""
        deadline = asyncio.get_running_loop().time() + 20
        while True:
            response = await self.http.get("/api/v1/deliveries", params={"invitation_id": invitation_id},
                                           headers=admin)
            assert response.status_code == 200, response.text
            if items := response.json()["items"]:
                return items[0]
            assert asyncio.get_running_loop().time() < deadline, f"{invitation_id} never arrived"
            await asyncio.sleep(0.02)

    async def until(self, invitation_id: str, admin: dict[str, str], *states: str, timeout: float = 20) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = await self.state(invitation_id, admin)
            if found["state"] in states:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{invitation_id} is {found['state']}, not {states}: {found}")
            await asyncio.sleep(0.05)

    def published(self, event_type: str, subject: str | None = None) -> list[dict[str, Any]]:
        found = [orjson.loads(m.value) for m in self.events]
        return [e for e in found if e["type"] == event_type and (subject is None or e["subject"] == subject)]

    async def wait_published(self, event_type: str, subject: str, timeout: float = 20) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while not (found := self.published(event_type, subject)):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no {event_type} for {subject} within {timeout} s")
            await asyncio.sleep(0.02)
        return found[0]


def notifications_settings(url: str, smtp: SmtpSink, sink: HttpSink, **overrides: Any) -> NotificationsSettings:
    values: dict[str, Any] = {
        "database_url": url, "relay_poll_interval_s": 0.02, "dispatch_interval_s": 0.05,
        "public_url": "http://127.0.0.1:8000",
        "smtp_host": "127.0.0.1", "smtp_port": smtp.controller.port, "smtp_connections": 2,
        "sms_url": f"{sink.url}/sms", "sms_authorization": SecretStr("Bearer sms-gateway-token"),
        "sms_inbound_secret": SecretStr(INBOUND_SECRET),
        "app_webhook_url": f"{sink.url}/app", "app_webhook_secret": SecretStr(WEBHOOK_SECRET),
        "backoff_s": 0.05, "backoff_max_s": 0.2, "max_attempts": 3, "send_timeout_s": 5, "lease_s": 30,
        "contact_wait_s": 2,
        **overrides,
    }
    return NotificationsSettings(**values)


@pytest.fixture(params=["sqlite", "postgres"])
async def notifications(request, tmp_path) -> AsyncIterator[Notifications]:  # noqa: ANN001
    databases = None
    if request.param == "postgres":
        databases = PostgresDatabases(_need(PG_URL, "DATABASE_URL (PostgreSQL)"))
        url = await databases.create("notifications")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'notifications.db'}"
    await asyncio.to_thread(upgrade, SPEC.migrations_dir, url)
    await migrate_gateway(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    runtime = RuntimeSettings(var_dir=str(tmp_path), internal_token_key=SecretStr(INTERNAL_KEY))
    smtp, sink = SmtpSink(), HttpSink()
    smtp.controller.start()
    sink.thread.start()
    bus = LocalBus()
    events: list[Message] = []

    async def collect(message: Message) -> None:
        events.append(message)

    await bus.subscribe("test-collector", ["notifications.v1"], collect)
    service = create_notifications(notifications_settings(url, smtp, sink), runtime, bus)
    app = create_app(make_gateway_settings(max_body_bytes=100_000), runtime, hosted={"notifications": service}, bus=bus)
    clock = ShiftedClock()
    clock.set(vietnam_time(FAIR_DAY - timedelta(days=7), 9))  # a weekday morning before the fair
    try:
        async with app.router.lifespan_context(app):
            ctx = service.state.ctx
            ctx.extras["notifier"].clock = clock
            async with (
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=service), base_url="http://svc") as direct,
            ):
                yield Notifications(http, direct, bus, ctx, smtp, sink, clock, events, app)
    finally:
        smtp.controller.stop()
        sink.server.shutdown()
        if databases:
            await databases.drop_all()
