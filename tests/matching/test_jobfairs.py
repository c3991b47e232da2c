"""Job fairs: scheduling, allocation runs, invitations issued and revoked, RSVP and outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import orjson

from kit.bus import Message
from reference.localtime import VIETNAM, local_date
from services.matching.models import Outcome
from tests.matching.conftest import Matching
from tests.matching.profiles import candidate_data
from tests.matching.test_recommendations import seed


FAIR_DAY = local_date(datetime.now(UTC)) + timedelta(days=10)


def on_day(day, hour: int = 9):  # noqa: ANN001, ANN202
    """A clock that reads ``hour`` o'clock on ``day`` in Việt Nam."""
    return lambda: datetime.combine(day, time(hour), VIETNAM).astimezone(UTC)


def fair_body(**overrides: object) -> dict:
    body = {
        "name": "Phiên giao dịch việc làm tháng 12",
        "date": FAIR_DAY.isoformat(),
        "venue": {"ward_code": "11311", "detail": "Nhà văn hóa Hồng Bàng"},
        "slots": [{"start": "08:00", "end": "10:00", "seats": 100}, {"start": "10:00", "end": "12:00", "seats": 100}],
        "vacancies": [{"vacancy_id": "v-1", "slot_id": "s1"}, {"vacancy_id": "v-2", "slot_id": "s1"}],
        "invites_per_opening": 1,
        "max_invites_per_candidate": 2,
    }
    body.update(overrides)
    return body


async def collect(m: Matching, topic: str) -> list[dict]:
    seen: list[dict] = []

    async def keep(message: Message) -> None:
        seen.append(orjson.loads(message.value))

    await m.bus.subscribe(f"test-{topic}", [topic], keep)
    return seen


async def run_allocation(m: Matching, fair_id: str, headers: dict) -> dict:
    started = await m.http.post(f"/api/v1/job-fairs/{fair_id}/allocations", headers=headers)
    assert started.status_code == 202, started.text
    location = started.headers["location"]
    result: dict = {}

    async def done() -> bool:
        nonlocal result
        result = (await m.http.get(location, headers=headers)).json()
        return result["status"] != "running"

    await m.until(done, "allocation run finished")
    assert result["status"] == "completed", result
    return result


async def test_erasure_revokes_the_person_s_live_invitations_and_a_re_run_still_works(matching: Matching) -> None:
    await seed(matching)
    published = await collect(matching, "jobfairs.v1")
    admin = await matching.bearer(["jobfairs:admin"])
    fair = (await matching.http.post("/api/v1/job-fairs", headers=admin, json=fair_body())).json()
    await run_allocation(matching, fair["id"], admin)
    invitations = (await matching.http.get(f"/api/v1/job-fairs/{fair['id']}/invitations", headers=admin)).json()["items"]
    a1 = next(i["id"] for i in invitations if i["candidate_id"] == "a-1")
    await matching.publish("candidate.erased", "a-1", {"candidate_id": "a-1", "version": 9})

    async def revoked() -> bool:
        return any(e["type"] == "invitation.revoked" and e["subject"] == a1 for e in published)

    await matching.until(revoked, "the erased person's invitation revoked")
    event = next(e for e in published if e["type"] == "invitation.revoked")
    assert event["data"]["reason"] == "the person's data was erased"
    items = (await matching.http.get(f"/api/v1/job-fairs/{fair['id']}/invitations", headers=admin)).json()["items"]
    assert {(i["candidate_id"], i["status"]) for i in items if i["id"] == a1} == {(None, "revoked")}
    again = await run_allocation(matching, fair["id"], admin)  # the erased person's row is no obstacle
    assert again["totals"]["revoked"] == 0
    items = (await matching.http.get(f"/api/v1/job-fairs/{fair['id']}/invitations", headers=admin)).json()["items"]
    assert [i["candidate_id"] for i in items].count("a-1") == 0  # not invited again


async def test_a_fair_is_allocated_published_and_answered(matching: Matching) -> None:
    await seed(matching)
    published = await collect(matching, "jobfairs.v1")
    admin = await matching.bearer(["jobfairs:admin"])
    bad = await matching.http.post("/api/v1/job-fairs", headers=admin, json=fair_body(
        vacancies=[{"vacancy_id": "v-9"}, {"vacancy_id": "v-1", "slot_id": "s7"}]))
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"vacancies.0.vacancy_id", "vacancies.1.slot_id"}
    bad_slot = await matching.http.post("/api/v1/job-fairs", headers=admin, json=fair_body(
        slots=[{"start": "10:00", "end": "09:00", "seats": 5}]))
    assert bad_slot.status_code == 422
    fairs = matching.ctx.extras["jobfairs"]
    fairs.clock = on_day(FAIR_DAY - timedelta(days=1), hour=23)  # 16:00 UTC: a day in Việt Nam, not in UTC
    past = await matching.http.post("/api/v1/job-fairs", headers=admin,
                                    json=fair_body(date=(FAIR_DAY - timedelta(days=2)).isoformat()))
    assert past.status_code == 422 and past.json()["errors"] == [
        {"field": "date", "message": f"is before today ({FAIR_DAY - timedelta(days=1):%d/%m/%Y} in Việt Nam)"}]
    fairs.clock = lambda: datetime.now(UTC)

    created = await matching.http.post("/api/v1/job-fairs", headers=admin, json=fair_body())
    assert created.status_code == 201, created.text
    fair = created.json()
    run = await run_allocation(matching, fair["id"], admin)
    # v-1 has 3 openings × 1, v-2 3 × 1; three candidates in the pool, K = 2, but both vacancies
    # interview in slot s1: nobody can be invited twice
    assert run["totals"]["invitations"] == 3 and run["totals"]["issued"] == 3 and run["totals"]["revoked"] == 0
    assert run["input_hash"] and run["objective"] > 0 and run["message"] == "optimal"
    invitations = (await matching.http.get(f"/api/v1/job-fairs/{fair['id']}/invitations", headers=admin)).json()["items"]
    assert sorted(i["candidate_id"] for i in invitations) == ["a-1", "a-2", "b-1"]
    assert all(i["status"] == "issued" and i["slot_id"] == "s1" for i in invitations)

    async def events_published() -> bool:
        return len([e for e in published if e["type"] == "invitation.issued"]) == 3

    await matching.until(events_published, "invitation.issued events")
    issued = next(e for e in published if e["type"] == "invitation.issued")
    assert issued["data"]["slot"]["start"] == "08:00" and issued["data"]["venue_ward_code"] == "11311"
    assert "full_name" not in str(issued) and "phone" not in str(issued)

    # the same run again changes nothing; a better candidate displaces one
    again = await run_allocation(matching, fair["id"], admin)
    assert (again["totals"]["issued"], again["totals"]["revoked"], again["totals"]["kept"]) == (0, 0, 3)
    assert again["input_hash"] == run["input_hash"]
    await matching.publish("candidate.updated", "a-2", candidate_data("a-2", version=2, status="employed"))

    async def a2_out() -> bool:
        return matching.matcher.index.candidates.get("a-2") is None

    await matching.until(a2_out, "a-2 out of the pool")
    third = await run_allocation(matching, fair["id"], admin)
    assert third["totals"]["revoked"] == 1 and third["totals"]["invitations"] == 2
    statuses = {i["candidate_id"]: i["status"] for i in
                (await matching.http.get(f"/api/v1/job-fairs/{fair['id']}/invitations", headers=admin)).json()["items"]}
    assert statuses == {"a-1": "issued", "a-2": "revoked", "b-1": "issued"}

    async def revocation_published() -> bool:
        return any(e["type"] == "invitation.revoked" for e in published)

    await matching.until(revocation_published, "invitation.revoked event")
    revocation = next(e for e in published if e["type"] == "invitation.revoked")
    a2 = next(i for i in invitations if i["candidate_id"] == "a-2")
    assert revocation["subject"] == a2["id"]
    assert revocation["data"] == {"invitation_id": a2["id"], "job_fair_id": fair["id"], "candidate_id": "a-2",
                                  "reason": "the fair's allocation was run again"}

    # RSVP by the candidate's centre (another centre does not see the invitation)
    by_id = {i["candidate_id"]: i["id"] for i in invitations}
    centre_a = await matching.bearer(["candidates:write"], centre_id="centre-a")
    centre_b = await matching.bearer(["candidates:write"], centre_id="centre-b")
    assert (await matching.http.post(f"/api/v1/invitations/{by_id['a-1']}/rsvp", json={"answer": "accept"},
                                     headers=centre_b)).status_code == 404
    accepted = await matching.http.post(f"/api/v1/invitations/{by_id['a-1']}/rsvp", json={"answer": "accept"},
                                        headers=centre_a)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    revoked = await matching.http.post(f"/api/v1/invitations/{by_id['a-2']}/rsvp", json={"answer": "accept"},
                                       headers=centre_a)
    assert revoked.status_code == 409 and revoked.json()["current"] == "revoked"
    # an answer by SMS arrives as an event from notifications
    await matching.publish("invitation.responded", by_id["b-1"], {"invitation_id": by_id["b-1"], "answer": "decline",
                                                                    "channel": "sms"})

    async def declined() -> bool:
        items = (await matching.http.get(f"/api/v1/job-fairs/{fair['id']}/invitations",
                                         params={"status": "declined"}, headers=admin)).json()["items"]
        return [i["candidate_id"] for i in items] == ["b-1"]

    await matching.until(declined, "b-1 declined by SMS")

    # outcomes: only from the fair's day; recorded once, announced with the pair's factors, and
    # become training data
    early = await matching.http.post(f"/api/v1/invitations/{by_id['a-1']}/outcome", json={"outcome": "hired"},
                                     headers=admin)
    assert early.status_code == 409 and early.json()["type"].endswith("/job-fair-day"), early.text
    assert FAIR_DAY.strftime("%d/%m/%Y") in early.json()["detail"]
    fairs.clock = on_day(FAIR_DAY, hour=0)
    hired = await matching.http.post(f"/api/v1/invitations/{by_id['a-1']}/outcome", json={"outcome": "hired"},
                                     headers=admin)
    assert hired.status_code == 200 and hired.json()["status"] == "hired"
    assert (await matching.http.post(f"/api/v1/invitations/{by_id['a-1']}/outcome", json={"outcome": "hired"},
                                     headers=admin)).status_code == 200
    assert (await matching.http.post(f"/api/v1/invitations/{by_id['a-1']}/outcome", json={"outcome": "no_show"},
                                     headers=admin)).status_code == 409

    async def trained_on() -> bool:
        async with matching.db.reading() as session:
            row = await session.get(Outcome, by_id["a-1"])
            return row is not None and row.outcome == "hired" and row.factors["must"] == 1.0

    await matching.until(trained_on, "the outcome reached the training data")

    async def outcome_announced() -> bool:  # another subscriber of the topic: it may get it later
        return any(e["type"] == "invitation.outcome_recorded" for e in published)

    await matching.until(outcome_announced, "invitation.outcome_recorded event")
    outcomes = [e for e in published if e["type"] == "invitation.outcome_recorded"]
    assert len(outcomes) == 1 and outcomes[0]["data"]["vacancy_id"] == "v-1" and outcomes[0]["data"]["factors"]
    summary = (await matching.http.get(f"/api/v1/job-fairs/{fair['id']}", headers=admin)).json()["invitations"]
    assert summary == {"hired": 1, "declined": 1, "revoked": 1}

    # the day after: nobody is invited to it or answers its invitation any more
    fairs.clock = on_day(FAIR_DAY + timedelta(days=1), hour=0)
    late = await matching.http.post(f"/api/v1/job-fairs/{fair['id']}/allocations", headers=admin)
    assert late.status_code == 409 and late.json()["type"].endswith("/job-fair-day"), late.text
    late_answer = await matching.http.post(f"/api/v1/invitations/{by_id['b-1']}/rsvp", json={"answer": "accept"},
                                           headers=centre_b)
    assert late_answer.status_code == 409 and "no longer" in late_answer.json()["detail"], late_answer.text


async def test_slots_let_a_candidate_attend_two_interviews_and_the_share_is_reported(matching: Matching) -> None:
    await seed(matching)
    admin = await matching.bearer(["jobfairs:admin"])
    created = await matching.http.post("/api/v1/job-fairs", headers=admin, json=fair_body(
        vacancies=[{"vacancy_id": "v-1", "slot_id": "s1"}, {"vacancy_id": "v-2", "slot_id": "s2"}],
        priority_min_share=0.9, priority_groups=["poor_household"]))
    run = await run_allocation(matching, created.json()["id"], admin)
    totals = run["totals"]
    assert totals["invitations"] == 6 and totals["per_slot"] == {"s1": 3, "s2": 3}  # K = 2: everyone twice
    assert totals["priority_share_met"] is False and "at most 2" in run["message"]
    assert totals["per_group"] == {"priority": 2, "other": 4} and totals["priority_share"] == round(2 / 6, 4)
    assert (await matching.http.get("/api/v1/job-fairs/nope", headers=admin)).status_code == 404
    reader = await matching.bearer(["matching:read"], centre_id="centre-a")
    assert (await matching.http.post(f"/api/v1/job-fairs/{created.json()['id']}/allocations",
                                     headers=reader)).status_code == 403


async def test_the_report_and_the_monthly_batch_command(matching: Matching, tmp_path) -> None:  # noqa: ANN001
    import asyncio
    import base64
    import os
    import sys
    from pathlib import Path

    await seed(matching)
    admin = await matching.bearer(["jobfairs:admin"])
    fair = (await matching.http.post("/api/v1/job-fairs", headers=admin, json=fair_body(
        vacancies=[{"vacancy_id": "v-1"}, {"vacancy_id": "v-2"}], priority_min_share=0.3))).json()
    assert {v["slot_id"] for v in fair["vacancies"]} == {"s1", "s2"}  # spread over the slots by load
    run = await run_allocation(matching, fair["id"], admin)
    # completed means published; the report is asked for while it may still be being drawn
    page = await matching.http.get(f"/api/v1/job-fairs/{fair['id']}/allocations/{run['id']}/report", headers=admin)

    async def written() -> bool:
        state = (await matching.http.get(f"/api/v1/job-fairs/{fair['id']}/allocations/{run['id']}", headers=admin))
        return state.json()["progress"] == "done"

    await matching.until(written, "the run's report written")
    saved = Path(matching.ctx.runtime.var_dir) / "reports" / f"jobfair-{fair['id']}-{run['id']}.html"
    assert saved.exists()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Báo cáo phân bổ lời mời" in page.text and "Tỷ lệ lời mời cho nhóm ưu tiên" in saved.read_text()
    # the page written at the end of the run shows it completed, and is the one served: not drawn again
    assert "<th>Trạng thái</th><td>completed</td>" in page.text and page.text == saved.read_text(encoding="utf-8")
    images = [chunk.split('"')[0] for chunk in page.text.split("data:image/png;base64,")[1:]]
    assert len(images) == 5 and all(base64.b64decode(i).startswith(b"\x89PNG") and len(i) > 2000 for i in images)
    report = f"/api/v1/job-fairs/{fair['id']}/allocations/{run['id']}/report"
    tag = page.headers["etag"]
    again = await matching.http.get(report, headers=admin)
    assert again.headers["etag"] == tag and again.text == page.text
    unchanged = await matching.http.get(report, headers={**admin, "If-None-Match": f'"other", {tag}'})
    assert unchanged.status_code == 304 and unchanged.headers["etag"] == tag and not unchanged.content

    # the batch command, as `make jobfair FAIR=…` runs it, against the same database
    env = {**os.environ, "JOBLINK_MATCHING_DATABASE_URL": matching.db.url, "JOBLINK_VAR": str(tmp_path / "cli")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.matching.cli", "jobfair", fair["id"], env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    assert "invitations" in out.decode() and "jobfair_progress" in err.decode()  # not a terminal: log lines
    reports = list((tmp_path / "cli" / "reports").glob(f"jobfair-{fair['id']}-*.html"))
    assert len(reports) == 1
    async with matching.db.reading() as session:
        from sqlalchemy import select

        from services.matching.models import AllocationRun

        runs = (await session.scalars(select(AllocationRun).where(AllocationRun.fair_id == fair["id"]))).all()
    assert len(runs) == 2 and all(r.status == "completed" for r in runs)
    assert runs[0].input_hash == runs[1].input_hash  # the same input: the same snapshot hash

    invited = {i["candidate_id"] for i in (await matching.http.get(
        f"/api/v1/job-fairs/{fair['id']}/invitations", headers=admin)).json()["items"]}
    assert (await matching.http.get(report, headers={**admin, "If-None-Match": tag})).status_code == 304
    moved = sorted(invited)[0]  # someone invited moves house: the report shows their ward
    await matching.publish("candidate.updated", moved,
                           candidate_data(moved, version=2, ward_code="10525", lat=20.941, lon=106.344))

    async def redrawn() -> bool:
        return (await matching.http.get(report, headers={**admin, "If-None-Match": tag})).status_code == 200

    await matching.until(redrawn, "the report drawn again after a change it shows")


async def test_a_run_interrupted_by_a_stop_is_marked_failed_at_the_next_start(matching: Matching) -> None:
    from datetime import UTC, datetime, timedelta

    from services.matching.models import AllocationRun

    await seed(matching)
    admin = await matching.bearer(["jobfairs:admin"])
    fair = (await matching.http.post("/api/v1/job-fairs", headers=admin, json=fair_body())).json()
    async with matching.db.transaction() as session:
        for age in (timedelta(hours=3), timedelta(seconds=5)):
            session.add(AllocationRun(id=f"run-{age.seconds}", fair_id=fair["id"], status="running", progress="solving",
                                      parameters={}, started_at=datetime.now(UTC) - age))
    assert await matching.ctx.extras["jobfairs"].abandon_interrupted_runs() == 1
    stale = (await matching.http.get(f"/api/v1/job-fairs/{fair['id']}/allocations/run-10800", headers=admin)).json()
    current = (await matching.http.get(f"/api/v1/job-fairs/{fair['id']}/allocations/run-5", headers=admin)).json()
    assert stale["status"] == "failed" and "run it again" in stale["message"] and current["status"] == "running"
