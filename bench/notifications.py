"""Invitation delivery: 10,000 ``invitation.issued`` events through the notifications service to a
local SMTP server and a local SMS gateway, on PostgreSQL and Kafka when ``DATABASE_URL`` and
``KAFKA_BOOTSTRAP`` are set (SQLite and the in-process bus otherwise).

    python -m bench.notifications [--invitations 10000]

Measured: deliveries per second from the first event published to the last delivery recorded,
and the latency of each invitation from ``invitation.issued`` (the event's time) to its delivery
being recorded (after the receiver's acknowledgement). Baseline: the same messages sent straight
through the same channel adapters at the same concurrency, with no database, bus, retries or
bookkeeping — what the receivers and the adapters allow.

The receivers run in a child process (an aiosmtpd SMTP server and an HTTP server that keeps one
message per idempotency key), as real ones would run elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import func, select

from bench.broker import drop_namespace, new_namespace
from kit.bus import Bus, Message
from kit.bus.kafka import KafkaBus
from kit.bus.local import LocalBus
from kit.migrations import upgrade
from kit.settings import RuntimeSettings
from services.candidates.events import ContactChanged, registry as candidate_events
from services.matching.events import InvitationIssued, Slot, registry as matching_events
from services.notifications.app import SPEC, create_app
from services.notifications.channels import EmailChannel, Outgoing, SmsChannel, SmtpConfig
from services.notifications.messages import Templates
from services.notifications.models import Contact, Invitation
from services.notifications.settings import NotificationsSettings
from tests.conftest import PostgresDatabases

FAIR_DAY = date(2026, 12, 10)
NAMESPACE = new_namespace()  # the run's own topics and groups on the broker (bench/broker.py)


# ---- the receivers (child process) -------------------------------------------------------------
def serve_receivers(smtp_port: int, http_port: int) -> None:
    import uvicorn
    from aiosmtpd.controller import Controller

    counts = {"email": 0, "sms": 0, "sms_requests": 0}
    keys: set[str] = set()

    class Mailbox:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
            counts["email"] += 1
            return "250 OK"

    smtp = Controller(Mailbox(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()

    async def app(scope, receive, send):  # noqa: ANN001, ANN202 - a bare ASGI app: the cheapest receiver
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        if scope["method"] == "POST":
            counts["sms_requests"] += 1
            key = dict(scope["headers"]).get(b"idempotency-key", b"").decode()
            if key not in keys:
                keys.add(key)
                counts["sms"] += 1
            body = b'{"id": "ok"}'
        else:
            body = json.dumps(counts).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    try:
        uvicorn.run(app, host="127.0.0.1", port=http_port, log_level="warning", access_log=False)
    finally:
        smtp.stop()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def receiver_counts(http_port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/stats", timeout=5) as response:  # noqa: S310 - localhost
        return json.loads(response.read())


# ---- the scenario ------------------------------------------------------------------------------
def contact_event(i: int) -> Message:
    candidate_id = f"cand-{i:06d}"
    payload = ContactChanged(candidate_id=candidate_id, version=1, notifications=True, full_name=f"Nguyễn Văn {i}",
                             phone=f"+8491{i:07d}", email=f"worker{i}@example.vn",
                             channels=["sms"] if i % 2 == 0 else ["email"])
    envelope = candidate_events.envelope("/services/candidates", candidate_id, payload, "candidate.contact_changed")
    return Message("candidates.contacts.v1", candidate_id, envelope.to_bytes())


def invitation_event(run: str, i: int) -> Message:
    payload = InvitationIssued(
        invitation_id=f"{run}-inv-{i:06d}", job_fair_id=f"{run}-fair", candidate_id=f"cand-{i:06d}",
        vacancy_id=f"vac-{i % 300}", vacancy_title="Công nhân lắp ráp linh kiện điện tử", employer_id=f"emp-{i % 300}",
        fair_date=FAIR_DAY, slot=Slot(id="s1", start="08:00", end="10:00", seats=5000), venue_ward_code="11311",
        venue_detail="Trung tâm Dịch vụ việc làm, số 1 Cù Chính Lan",
    )
    envelope = matching_events.envelope("/services/matching", payload.invitation_id, payload, "invitation.issued")
    return Message("jobfairs.v1", payload.invitation_id, envelope.to_bytes())


async def wait_for(label: str, count, target: int, timeout: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    shown = -1
    while (done := await count()) < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"{label}: {done} of {target} after {timeout:.0f} s")
        if done // max(1, target // 10) != shown:
            shown = done // max(1, target // 10)
            print(f"  {label}: {done:,}/{target:,}", file=sys.stderr, flush=True)
        await asyncio.sleep(0.05)


async def through_the_service(n: int, url: str, bus_factory, smtp_port: int, http_port: int, var: str) -> dict:  # noqa: ANN001
    settings = NotificationsSettings(
        database_url=url, smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_connections=8,
        sms_url=f"http://127.0.0.1:{http_port}/sms", sms_authorization=SecretStr("Bearer bench"),
        dispatch_interval_s=0.2, relay_poll_interval_s=0.05,
        quiet_start="00:00", quiet_end="00:00",  # the benchmark may run at night
    )
    kafka = os.environ.get("KAFKA_BOOTSTRAP") if os.environ.get("DATABASE_URL") else None
    runtime = RuntimeSettings(var_dir=var, internal_token_key=SecretStr("k" * 40), bus="kafka" if kafka else "memory",
                              kafka_bootstrap=kafka or "127.0.0.1:9092", kafka_namespace=NAMESPACE)
    producer = bus_factory("bench-producer")
    await producer.start()
    # on Kafka the service makes and owns its bus, as in production; in-process, both share one
    app = create_app(settings, runtime, None if kafka else producer)
    run = f"run{int(time.time())}"
    try:
        async with app.router.lifespan_context(app):
            db = app.state.ctx.db

            async def scalar(query) -> int:  # noqa: ANN001
                async with db.reading() as session:
                    return int(await session.scalar(query) or 0)

            await producer.publish([contact_event(i) for i in range(n)])
            await wait_for("contacts", lambda: scalar(select(func.count()).select_from(Contact)), n, 300)
            started = time.perf_counter()
            for first in range(0, n, 1000):  # as the job-fair relay publishes: in batches
                await producer.publish([invitation_event(run, i) for i in range(first, min(n, first + 1000))])
            ours = Invitation.id.startswith(f"{run}-")
            delivered = select(func.count()).select_from(Invitation).where(ours, Invitation.state == "delivered")
            await wait_for("delivered", lambda: scalar(delivered), n, 900)
            elapsed = time.perf_counter() - started
            async with db.reading() as session:
                rows = (await session.execute(select(Invitation.issued_at, Invitation.delivered_at).where(ours))).all()
                first, last = (await session.execute(
                    select(func.min(Invitation.issued_at), func.max(Invitation.received_at)).where(ours))).one()
    finally:
        await producer.stop()
    latencies = sorted((d - i).total_seconds() for i, d in rows)
    return {"elapsed": elapsed, "consumed": (last - first).total_seconds(), "p50": latencies[len(latencies) // 2], "p95": latencies[int(len(latencies) * 0.95)],
            "max": latencies[-1]}


async def straight_through_the_adapters(n: int, smtp_port: int, http_port: int) -> float:
    import httpx

    from services.notifications.models import Contact as ContactRow
    from services.notifications.models import Invitation as InvitationRow

    templates = Templates("http://127.0.0.1:8000")
    sms = SmsChannel(f"http://127.0.0.1:{http_port}/sms", httpx.AsyncClient(
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=8)), "Bearer bench")
    mail = EmailChannel(SmtpConfig(host="127.0.0.1", port=smtp_port, sender="JobLink <thu-moi@joblink.vn>"), 8)
    now = datetime.now(UTC)
    gate = asyncio.Semaphore(64)

    async def one(i: int) -> None:
        invitation = InvitationRow(id=f"base-{i}", job_fair_id="f", candidate_id=f"c{i}", vacancy_id="v",
                                   vacancy_title="Công nhân lắp ráp linh kiện điện tử", employer_id="e",
                                   fair_date=FAIR_DAY, slot_start="08:00", slot_end="10:00", venue_ward_code="11311",
                                   venue_detail="Trung tâm Dịch vụ việc làm, số 1 Cù Chính Lan", rsvp_code="ABCD2345",
                                   state="pending", issued_at=now, received_at=now, updated_at=now)
        contact = ContactRow(candidate_id=f"c{i}", version=1, notifications=True, full_name=f"Nguyễn Văn {i}",
                             phone=f"+8491{i:07d}", email=f"worker{i}@example.vn", channels=[], erased=False)
        channel = "sms" if i % 2 == 0 else "email"
        message = templates.render(channel, invitation, contact, "Công ty TNHH Điện tử Hải Long")
        async with gate:
            adapter = sms if channel == "sms" else mail
            await adapter.send(Outgoing(f"baseline-{i}", contact.phone if channel == "sms" else contact.email, message))

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - started
    await sms.close()
    await mail.close()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invitations", type=int, default=10_000)
    args = parser.parse_args()
    n = args.invitations
    smtp_port, http_port = free_port(), free_port()
    receivers = subprocess.Popen([sys.executable, "-m", "bench.notifications", "--receivers", str(smtp_port),
                                  str(http_port)])
    databases = None
    try:
        for _ in range(200):
            try:
                receiver_counts(http_port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        with tempfile.TemporaryDirectory() as var:
            if os.environ.get("DATABASE_URL") and os.environ.get("KAFKA_BOOTSTRAP"):
                databases = PostgresDatabases(os.environ["DATABASE_URL"])
                url = await databases.create("bench_notifications")
                bootstrap = os.environ["KAFKA_BOOTSTRAP"]
                runtime_name = "PostgreSQL + Kafka"

                def bus_factory(client_id: str) -> Bus:
                    return KafkaBus(bootstrap, client_id, partitions=3, namespace=NAMESPACE)
            else:
                url = f"sqlite+aiosqlite:///{Path(var) / 'notifications.db'}"
                shared = LocalBus(str(Path(var) / "bus.db"))
                runtime_name = "SQLite + in-process bus"

                def bus_factory(_client_id: str) -> Bus:
                    return shared
            await asyncio.to_thread(upgrade, SPEC.migrations_dir, url)
            measured = await through_the_service(n, url, bus_factory, smtp_port, http_port, var)
        counts = receiver_counts(http_port)
        baseline = await straight_through_the_adapters(n, smtp_port, http_port)
    finally:
        receivers.terminate()
        receivers.wait(timeout=10)
        if databases:
            await databases.drop_all()
            await drop_namespace(os.environ["KAFKA_BOOTSTRAP"], NAMESPACE)
    assert counts["sms"] == (n + 1) // 2 and counts["email"] == n // 2, counts
    print(f"\n{n:,} invitations (half SMS, half e-mail) on {runtime_name}, {os.cpu_count()} cores\n")
    print("| path | deliveries/s | seconds | p50 issued→delivered | p95 | max |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print(f"| notifications service (consume, claim, render, send, record, publish) | {n / measured['elapsed']:,.0f} | "
          f"{measured['elapsed']:.2f} | {measured['p50'] * 1000:,.0f} ms | {measured['p95'] * 1000:,.0f} ms | "
          f"{measured['max'] * 1000:,.0f} ms |")
    print(f"| of which taking in the events (consume, store) | {n / measured['consumed']:,.0f} | "
          f"{measured['consumed']:.2f} | | | |")
    print(f"| baseline: the channel adapters alone, same receivers and concurrency | {n / baseline:,.0f} | "
          f"{baseline:.2f} | | | |")
    print(f"\nreceivers: {counts['sms']:,} SMS ({counts['sms_requests']:,} requests), {counts['email']:,} e-mails; "
          "every invitation delivered exactly once")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--receivers":
        serve_receivers(int(sys.argv[2]), int(sys.argv[3]))
    else:
        asyncio.run(main())
