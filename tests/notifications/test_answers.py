"""Answers: the RSVP page (in headless Chromium and over plain HTTP), replies by SMS, opt-outs."""

from __future__ import annotations

import asyncio
import re
import time

import orjson
import uvicorn
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from services.notifications.channels import signature
from tests.e2e.test_swagger_ui import browser
from tests.notifications.conftest import INBOUND_SECRET, Notifications, free_port


async def delivered_code(n: Notifications, invitation_id: str, candidate_id: str, **contact: object) -> str:
    """Issue an invitation by SMS and read its RSVP code from the text the person received."""
    await n.contact(candidate_id, channels=["sms"], **contact)
    await n.issue(invitation_id, candidate_id)
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        for message in n.sink.messages("/sms"):
            if message["body"]["to"] == contact.get("phone", "+84912345678") and \
                    (found := re.search(r"/rsvp/([A-Z0-9]{8})", message["body"]["text"])):
                return found.group(1)
        assert asyncio.get_running_loop().time() < deadline, "no SMS"
        await asyncio.sleep(0.02)


async def test_the_rsvp_page_in_a_browser(notifications: Notifications) -> None:
    n = notifications
    await n.employer("emp-1")
    code = await delivered_code(n, "inv-1", "cand-1")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(n.gateway_app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.02)

        def answer_in_browser() -> tuple[str, str, str]:
            driver = browser()
            try:
                driver.set_window_size(390, 844)  # a phone
                wait = WebDriverWait(driver, 20)
                driver.get(f"http://127.0.0.1:{port}/rsvp/{code}")
                heading = wait.until(ready.visibility_of_element_located((By.TAG_NAME, "h1"))).text
                details = driver.find_element(By.TAG_NAME, "dl").text
                wait.until(ready.element_to_be_clickable((By.ID, "accept"))).click()
                note = wait.until(ready.visibility_of_element_located((By.ID, "note"))).text
                return heading, details, note
            finally:
                driver.quit()

        heading, details, note = await asyncio.to_thread(answer_in_browser)
    finally:
        server.should_exit = True
        await serving
    assert heading == "Thư mời phỏng vấn"
    assert "Thợ hàn điện bậc 3" in details and "Công ty TNHH Cơ khí Đông Hải" in details
    assert "08:00–10:00, Thứ Năm 10/12/2026" in details and code in details
    assert note.startswith("Bạn đã xác nhận sẽ tham dự")
    event = await n.wait_published("invitation.responded", "inv-1")
    assert {k: event["data"][k] for k in ("invitation_id", "job_fair_id", "candidate_id", "answer", "via")} == {
        "invitation_id": "inv-1", "job_fair_id": "fair-1", "candidate_id": "cand-1", "answer": "accept", "via": "web"}


async def test_answering_over_http(notifications: Notifications) -> None:
    n = notifications
    a = await n.bearer(["jobfairs:admin"])
    code = await delivered_code(n, "inv-1", "cand-1")
    page = await n.http.get(f"/rsvp/{code.lower()}")  # codes are read case-insensitively
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert "default-src 'none'; frame-ancestors" not in page.headers["content-security-policy"]
    assert '<meta name="viewport"' in page.text

    declined = await n.http.post(f"/rsvp/{code}", data={"answer": "decline"})
    assert declined.status_code == 200 and "Bạn đã báo không tham dự" in declined.text
    again = await n.http.post(f"/rsvp/{code}", data={"answer": "decline"})  # the same answer: no new event
    changed = await n.http.post(f"/rsvp/{code}", data={"answer": "accept"})
    assert again.status_code == 200 and changed.status_code == 200
    assert (await n.http.post(f"/rsvp/{code}", data={"answer": "maybe"})).status_code == 422
    missing = await n.http.get("/rsvp/ZZZZZZZZ")
    assert missing.status_code == 404 and "Không tìm thấy thư mời" in missing.text
    assert (await n.http.get("/rsvp/%3Cscript%3E")).status_code == 404
    await asyncio.sleep(0.3)
    answers = [e["data"]["answer"] for e in n.published("invitation.responded", "inv-1")]
    assert answers == ["decline", "accept"]
    state = await n.state("inv-1", a)
    assert state["answer"] == "accept" and state["answered_via"] == "web"

    await n.revoke("inv-1", "cand-1")
    await n.until("inv-1", a, "revoked")
    closed = await n.http.post(f"/rsvp/{code}", data={"answer": "decline"})
    assert closed.status_code == 409 and "Thư mời này đã bị huỷ" in closed.text and 'id="accept"' not in closed.text


def signed(body: dict) -> tuple[bytes, dict[str, str]]:
    raw = orjson.dumps(body)
    return raw, {"content-type": "application/json",
                 "x-joblink-signature": signature(INBOUND_SECRET.encode(), str(int(time.time())), raw)}


async def test_replies_by_sms(notifications: Notifications) -> None:
    n = notifications
    a = await n.bearer(["jobfairs:admin"])
    code = await delivered_code(n, "inv-1", "cand-1")

    raw, headers = signed({"from": "84912345678", "text": "Có"})
    reply = await n.http.post("/hooks/sms", content=raw, headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.json()["result"] == "accepted" and "10/12/2026" in reply.json()["reply"]
    event = await n.wait_published("invitation.responded", "inv-1")
    assert event["data"]["answer"] == "accept" and event["data"]["via"] == "sms"

    raw, headers = signed({"from": "0912345678", "text": f"khong {code}"})
    assert (await n.http.post("/hooks/sms", content=raw, headers=headers)).json()["result"] == "declined"
    raw, headers = signed({"from": "0912345678", "text": "khong ABCDEFGH"})  # someone else's or no code
    assert (await n.http.post("/hooks/sms", content=raw, headers=headers)).json()["result"] == "no_open_invitation"
    raw, headers = signed({"from": "0900000000", "text": "co"})
    assert (await n.http.post("/hooks/sms", content=raw, headers=headers)).json()["result"] == "unknown_sender"
    raw, headers = signed({"from": "0912345678", "text": "xin chao"})
    assert (await n.http.post("/hooks/sms", content=raw, headers=headers)).json()["result"] == "not_understood"

    forged = await n.http.post("/hooks/sms", content=raw, headers={**headers, "x-joblink-signature": "t=1,v1=00"})
    assert forged.status_code == 401 and forged.headers["content-type"] == "application/problem+json"
    raw, headers = signed({"text": "co"})
    assert (await n.http.post("/hooks/sms", content=raw, headers=headers)).status_code == 422

    raw, headers = signed({"from": "+84912345678", "text": "TU CHOI"})
    assert (await n.http.post("/hooks/sms", content=raw, headers=headers)).json()["result"] == "opted_out"
    await n.issue("inv-2", "cand-1")
    assert (await n.until("inv-2", a, "suppressed"))["reason"] == "not_permitted"
    assert len(n.sink.messages("/sms")) == 1


async def test_opting_out_from_the_page(notifications: Notifications) -> None:
    n = notifications
    a = await n.bearer(["jobfairs:admin"])
    code = await delivered_code(n, "inv-1", "cand-1")
    page = await n.http.get(f"/rsvp/{code}/opt-out")
    assert page.status_code == 200 and 'id="opt-out"' in page.text
    done = await n.http.post(f"/rsvp/{code}/opt-out", data={"confirm": "yes"})
    assert done.status_code == 200 and "Đã huỷ đăng ký" in done.text
    await n.contact("cand-1", version=2, channels=["email", "sms"])
    await n.issue("inv-2", "cand-1")
    assert (await n.until("inv-2", a, "suppressed"))["reason"] == "not_permitted"
    assert n.smtp.messages == [] and len(n.sink.messages("/sms")) == 1
