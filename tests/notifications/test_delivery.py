"""Delivering invitations: once per channel, retries, fallback, permanent failures, consent and
opt-outs, quiet hours, a crash between sending and recording, revocation and erasure."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import orjson

from services.notifications import repository, sms
from services.notifications.channels import verify_signature
from tests.notifications.conftest import FAIR_DAY, WEBHOOK_SECRET, Notifications, vietnam_time


async def admin(n: Notifications) -> dict[str, str]:
    return await n.bearer(["jobfairs:admin", "candidates:write"])


async def test_a_duplicated_invitation_is_delivered_once(notifications: Notifications) -> None:
    n, a = notifications, await admin(notifications)
    await n.employer("emp-1")
    await n.contact("cand-1", channels=["sms", "email"])
    issued = n.issued("inv-1", "cand-1")
    await n.publish("jobfairs.v1", issued)
    await n.publish("jobfairs.v1", issued)  # the same event again
    await n.publish("jobfairs.v1", n.issued("inv-1", "cand-1"))  # issued again under a new event id
    state = await n.until("inv-1", a, "delivered")
    await asyncio.sleep(0.3)  # room for a second message, were there one

    texts = n.sink.messages("/sms")
    assert len(texts) == 1 and n.smtp.messages == []
    body = texts[0]["body"]
    assert body["to"] == "+84912345678" and texts[0]["headers"]["authorization"] == "Bearer sms-gateway-token"
    [delivery] = state["deliveries"]
    assert delivery["channel"] == "sms" and delivery["status"] == "sent" and delivery["attempts"] == 1
    assert delivery["recipient"] == "+8491****678" and delivery["segments"] <= 2
    assert sms.encode(body["text"]).segments <= 2
    assert "Cong ty TNHH Co khi Dong Hai" in body["text"] or "Công ty TNHH Cơ khí Đông Hải" in body["text"]
    assert "10/12/2026" in body["text"] and "/rsvp/" in body["text"]
    delivered = await n.wait_published("notification.delivered", "inv-1")
    assert delivered["data"]["channel"] == "sms" and delivered["data"]["candidate_id"] == "cand-1"
    assert len(n.published("notification.delivered", "inv-1")) == 1


async def test_email_and_app_messages(notifications: Notifications) -> None:
    n, a = notifications, await admin(notifications)
    await n.employer("emp-1")
    await n.contact("cand-e", channels=["email"])
    await n.contact("cand-a", channels=["app", "sms"])
    await n.issue("inv-e", "cand-e")
    await n.issue("inv-a", "cand-a")
    await n.until("inv-e", a, "delivered")
    await n.until("inv-a", a, "delivered")

    [mail] = n.smtp.to("lan.nguyen@example.vn")
    assert mail["Subject"].startswith("Thư mời phỏng vấn: Thợ hàn điện bậc 3 – Công ty TNHH Cơ khí Đông Hải")
    assert mail["Message-ID"].endswith("@joblink.vn>")
    text = mail.get_body(("plain",)).get_content()
    assert "Chào Nguyễn Thị Lan" in text and "Thứ Năm ngày 10/12/2026" in text and "08:00–10:00" in text
    assert "Nhà văn hoá phường, Phường Hồng Bàng" in text
    html = mail.get_body(("html",)).get_content()
    assert "<strong>Thợ hàn điện bậc 3</strong>" in html and "/rsvp/" in html

    [push] = n.sink.messages("/app")
    raw = next(r for r in n.sink.requests if r["path"] == "/app")
    assert push["body"]["candidate_id"] == "cand-a" and push["body"]["vacancy_title"] == "Thợ hàn điện bậc 3"
    assert verify_signature(WEBHOOK_SECRET.encode(), raw["headers"]["x-joblink-signature"], orjson.dumps(raw["body"]))
    assert n.sink.messages("/sms") == []  # the app worked: no fallback


async def test_transient_failures_are_retried_then_delivered(notifications: Notifications) -> None:
    n, a = notifications, await admin(notifications)
    n.sink.fail["/sms"] = [503, 429]
    await n.contact("cand-1", channels=["sms", "email"])
    await n.issue("inv-1", "cand-1")
    state = await n.until("inv-1", a, "delivered")
    [sms_delivery] = state["deliveries"]
    assert sms_delivery["status"] == "sent" and sms_delivery["attempts"] == 3
    assert len(n.sink.messages("/sms")) == 1 and len([r for r in n.sink.requests if r["path"] == "/sms"]) == 3
    assert len({r["key"] for r in n.sink.requests}) == 1  # the same idempotency key on every attempt
    assert n.smtp.messages == []


async def test_a_channel_that_fails_for_good_hands_over_to_the_next(notifications: Notifications) -> None:
    n, a = notifications, await admin(notifications)
    n.sink.fail["/sms"] = [400]
    await n.contact("cand-1", channels=["sms", "email"])
    await n.issue("inv-1", "cand-1")
    state = await n.until("inv-1", a, "delivered")
    assert [(d["channel"], d["status"]) for d in state["deliveries"]] == [("sms", "failed"), ("email", "sent")]
    assert len(n.smtp.to("lan.nguyen@example.vn")) == 1
    assert (await n.wait_published("notification.delivered", "inv-1"))["data"]["channel"] == "email"


async def test_permanent_failure_everywhere_is_announced(notifications: Notifications) -> None:
    n, a = notifications, await admin(notifications)
    n.sink.fail["/sms"] = [404]
    n.smtp.refuse.add("lan.nguyen@example.vn")
    await n.contact("cand-1", channels=["sms", "email"])
    await n.issue("inv-1", "cand-1")
    state = await n.until("inv-1", a, "failed")
    assert state["reason"] == "undeliverable"
    assert {d["channel"]: d["error"] for d in state["deliveries"]} == {"sms": "HTTP 404", "email": "SMTP 550"}
    failed = await n.wait_published("notification.failed", "inv-1")
    assert failed["data"]["reason"] == "undeliverable" and set(failed["data"]["channels_tried"]) == {"sms", "email"}
    assert n.published("notification.delivered", "inv-1") == []


async def test_transient_failures_that_never_end_give_up_after_the_attempts(notifications: Notifications) -> None:
    n, a = notifications, await admin(notifications)
    n.sink.fail["/sms"] = [503] * 10
    await n.contact("cand-1", channels=["sms"])
    await n.issue("inv-1", "cand-1")
    state = await n.until("inv-1", a, "failed")
    assert state["deliveries"][0]["attempts"] == 3 and state["deliveries"][0]["status"] == "failed"
    await n.wait_published("notification.failed", "inv-1")


async def test_no_consent_opt_out_or_no_address_sends_nothing(notifications: Notifications) -> None:
    n, a = notifications, await admin(notifications)
    await n.contact("no-consent", consent=False)
    await n.contact("opted-out", channels=["sms"])
    response = await n.http.post("/api/v1/notifications/opt-outs", json={"candidate_id": "opted-out", "channel": "sms"},
                                 headers=a)
    assert response.status_code == 200 and response.json()["created"] is True
    await n.contact("no-address", channels=["email"], email=None)
    for candidate in ("no-consent", "opted-out", "no-address"):
        await n.issue(f"inv-{candidate}", candidate)
    assert (await n.until("inv-no-consent", a, "suppressed"))["reason"] == "not_permitted"
    assert (await n.until("inv-opted-out", a, "suppressed"))["reason"] == "not_permitted"
    assert (await n.until("inv-no-address", a, "failed"))["reason"] == "no_channel"
    assert n.sink.requests == [] and n.smtp.messages == []
    for candidate in ("no-consent", "opted-out", "no-address"):
        await n.wait_published("notification.failed", f"inv-{candidate}")


async def test_an_invitation_waits_for_contact_details_that_arrive_late(notifications: Notifications) -> None:
    n, a = notifications, await admin(notifications)
    await n.issue("inv-late", "cand-late")
    await n.issue("inv-never", "cand-never")
    await asyncio.sleep(0.3)
    assert (await n.state("inv-late", a))["state"] == "pending"
    await n.contact("cand-late", channels=["sms"])
    await n.until("inv-late", a, "delivered")
    assert (await n.until("inv-never", a, "failed", timeout=30))["reason"] == "no_contact"  # contact_wait_s = 2


async def test_no_sms_in_the_quiet_hours(notifications: Notifications) -> None:
    n, a = notifications, await admin(notifications)
    day = FAIR_DAY - timedelta(days=3)
    n.clock.set(vietnam_time(day, 22, 30))
    await n.contact("cand-1", channels=["sms", "email"])
    await n.issue("inv-1", "cand-1")
    morning = f"{day + timedelta(days=1)}T00:00:00"  # 07:00 in Vietnam
    deadline = asyncio.get_running_loop().time() + 10
    while not ((state := await n.state("inv-1", a))["next_attempt_at"] or "").startswith(morning):
        assert asyncio.get_running_loop().time() < deadline, state
        await asyncio.sleep(0.05)
    assert state["state"] == "pending" and state["deliveries"] == []
    assert n.sink.requests == [] and n.smtp.messages == []  # queued, not sent by e-mail instead

    n.clock.set(vietnam_time(day + timedelta(days=1), 6, 59))
    await n.dispatch()
    assert n.sink.requests == []
    n.clock.set(vietnam_time(day + timedelta(days=1), 7, 0))
    await n.until("inv-1", a, "delivered")
    assert len(n.sink.messages("/sms")) == 1


async def test_a_crash_between_sending_and_recording_sends_no_second_message(notifications: Notifications) -> None:
    """The process dies after the SMS gateway took the message and before the result was written:
    the attempt stays ``sending``; once its lease lapses the message is sent again with the same
    idempotency key, which the gateway recognises."""
    n, a = notifications, await admin(notifications)
    notifier = n.notifier
    record = notifier._record
    crashed = asyncio.Event()

    async def crash(*args: object) -> bool:
        crashed.set()
        raise RuntimeError("killed before recording")

    notifier._record = crash  # type: ignore[method-assign]
    try:
        await n.contact("cand-1", channels=["sms"])
        await n.issue("inv-1", "cand-1")
        await asyncio.wait_for(crashed.wait(), 20)
    finally:
        notifier._record = record  # type: ignore[method-assign]
    state = await n.state("inv-1", a)
    assert state["state"] == "pending" and state["deliveries"][0]["status"] == "sending"
    assert len(n.sink.messages("/sms")) == 1

    n.clock.offset += timedelta(seconds=31)  # the lease (30 s) lapses: as after a restart
    state = await n.until("inv-1", a, "delivered")
    assert state["deliveries"][0]["attempts"] == 2
    keys = [r["key"] for r in n.sink.requests]
    assert len(keys) == 2 and len(set(keys)) == 1
    assert len(n.sink.messages("/sms")) == 1


async def test_revoked_invitations_are_not_sent_and_erasure_forgets(notifications: Notifications) -> None:
    n, a = notifications, await admin(notifications)
    n.clock.set(vietnam_time(FAIR_DAY - timedelta(days=3), 22, 0))  # quiet hours: the SMS waits
    await n.contact("cand-1", channels=["sms"])
    await n.contact("cand-2", channels=["sms"], phone="+84987654321")
    await n.issue("inv-1", "cand-1")
    await n.issue("inv-2", "cand-2")
    await asyncio.sleep(0.3)
    await n.revoke("inv-1", "cand-1")
    await n.contact("cand-2", version=2, erased=True, consent=False)
    assert (await n.until("inv-1", a, "revoked"))["state"] == "revoked"
    assert (await n.until("inv-2", a, "suppressed"))["reason"] == "not_permitted"
    await n.contact("cand-2", version=1, channels=["sms"], phone="+84987654321")  # late: must not revive
    await asyncio.sleep(0.2)
    async with n.ctx.db.reading() as session:
        contact = await repository.contact(session, "cand-2")
    assert contact.erased and contact.phone is None and contact.full_name is None
    n.clock.set(vietnam_time(FAIR_DAY - timedelta(days=2), 8, 0))
    await n.dispatch()
    assert n.sink.requests == []
