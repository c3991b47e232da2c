"""Statistics from events: counts against a direct computation over a generated population,
answers at past dates, the plan's indicators and the job-fair funnel, CSV, and a rebuild from the
topics giving the same numbers."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import date, timedelta

from reference.geography import geography
from reference.population import PopulationGenerator, candidate_event, vacancy_event
from services.insights.consumers import GROUPS
from services.insights.models import inbox
from services.insights.events import registry
from tests.insights.conftest import Insights, at

DAY = date(2026, 11, 2)


async def admin(i: Insights) -> dict[str, str]:
    return await i.bearer(["stats:read"])


async def load_population(i: Insights, candidates: int = 400, employers: int = 40) -> tuple[list[dict], list[dict]]:
    gen = PopulationGenerator(7, DAY)
    people = [candidate_event(gen.candidate(n), f"c{n:05d}") for n in range(candidates)]
    jobs = [vacancy_event(v, f"v{e:03d}-{k}", f"e{e:03d}") for e in range(employers)
            for k, v in enumerate(gen.vacancies_of(gen.employer(e)))]
    for person in people:
        await i.publish("candidate.registered", person["candidate_id"], person, at(DAY))
    for job in jobs:
        await i.publish("vacancy.opened", job["vacancy_id"], job, at(DAY))
    await i.settled()
    return people, jobs


def province_of(record: dict) -> str | None:
    geo = geography()
    if record.get("ward_code"):
        return geo.ward(record["ward_code"]).province_code
    return geo.legacy_district(record["legacy_district_code"]).province_code if record.get("legacy_district_code") else None


async def test_supply_and_demand_equal_a_direct_count(insights: Insights) -> None:
    a = await admin(insights)
    people, jobs = await load_population(insights)
    seeking = [p for p in people if p["status"] == "seeking"]
    supply: dict[str, set[str]] = defaultdict(set)
    for person in seeking:
        for occupation in person["occupations"] or [""]:
            supply[occupation[:2]].add(person["candidate_id"])
    demand_v: Counter[str] = Counter(j["occupation"][:2] for j in jobs)
    demand_o: Counter[str] = Counter()
    for job in jobs:
        demand_o[job["occupation"][:2]] += job["openings"]

    body = await insights.get("supply-demand", a, at=DAY.isoformat(), group_by="occupation2")
    got = {r["group"]["occupation2"]: (r["candidates"], r["vacancies"], r["openings"]) for r in body["items"]}
    assert got == {k: (len(supply.get(k, ())), demand_v.get(k, 0), demand_o.get(k, 0)) for k in {*supply, *demand_v}}
    assert body["totals"]["candidates"] == len(seeking) and body["totals"]["openings"] == sum(demand_o.values())
    indices = [r["shortage_index"] for r in body["items"]]
    assert indices == sorted(indices, reverse=True) and all(-1 <= x <= 1 for x in indices)
    first = body["items"][0]
    assert first["shortage_index"] == round((first["openings"] - first["candidates"]) /
                                            (first["openings"] + first["candidates"]), 4)

    by_province = await insights.get("supply-demand", a, at=DAY.isoformat(), group_by=["province", "qualification"])
    expected: Counter[tuple] = Counter((province_of(p), p["qualification"]) for p in seeking)
    assert {(r["group"]["province"], r["group"]["qualification"]): r["candidates"] for r in by_province["items"]
            if r["candidates"]} == dict(expected)
    welders = await insights.get("supply-demand", a, at=DAY.isoformat(), group_by="occupation4", occupation="7212")
    assert [r["group"]["occupation4"] for r in welders["items"]] in ([], ["7212"])
    assert welders["totals"]["candidates"] == len(supply.get("72", set()) & {p["candidate_id"] for p in seeking
                                                                             if "7212" in p["occupations"]})

    before = await insights.get("supply-demand", a, at=(DAY - timedelta(days=1)).isoformat())
    assert before["items"] == [] and before["totals"]["candidates"] == 0


async def test_answers_at_past_dates(insights: Insights) -> None:
    a = await admin(insights)
    gen = PopulationGenerator(3, DAY)
    person = candidate_event(gen.candidate(0), "c1") | {"status": "seeking", "occupations": ["7212"]}
    job = vacancy_event(gen.vacancies_of(gen.employer(0))[0], "v1", "e1") | {"occupation": "7212", "openings": 4}
    await insights.publish("candidate.registered", "c1", person, at(DAY))
    await insights.publish("vacancy.opened", "v1", job, at(DAY + timedelta(days=1)))
    await insights.publish("vacancy.updated", "v1", job | {"version": 2, "hires": 3}, at(DAY + timedelta(days=2)))
    await insights.publish("candidate.updated", "c1", person | {"version": 2, "status": "employed"},
                           at(DAY + timedelta(days=3)))
    await insights.publish("vacancy.closed", "v1", {"vacancy_id": "v1", "version": 3, "status": "filled",
                                                    "reason": "filled"}, at(DAY + timedelta(days=4)))
    await insights.publish("candidate.updated", "c1", person | {"version": 1, "status": "seeking"},  # late, older
                           at(DAY + timedelta(days=5)))
    await insights.settled()

    async def totals(day: date) -> tuple[int, int, int]:
        body = await insights.get("supply-demand", a, at=day.isoformat(), group_by="occupation4")
        return body["totals"]["candidates"], body["totals"]["vacancies"], body["totals"]["openings"]

    assert [await totals(DAY + timedelta(days=d)) for d in range(-1, 6)] == [
        (0, 0, 0), (1, 0, 0), (1, 1, 4), (1, 1, 1), (0, 1, 1), (0, 0, 0), (0, 0, 0)]


async def test_indicators_and_the_job_fair_funnel(insights: Insights) -> None:
    a = await admin(insights)
    gen = PopulationGenerator(5, DAY)
    base = candidate_event(gen.candidate(0), "x")
    people = {
        "c1": {"qualification": "none", "priority_groups": ["poor_household", "youth"], "ward_code": "11311"},
        "c2": {"qualification": "college", "priority_groups": [], "ward_code": "11311"},
        "c3": {"qualification": "primary_vocational", "priority_groups": ["demobilised_soldier"], "ward_code": "11506"},
        "c4": {"qualification": "none", "priority_groups": [], "ward_code": "11506"},
    }
    for cid, fields in people.items():
        await insights.publish("candidate.registered", cid, base | fields | {"candidate_id": cid, "status": "seeking",
                                                                             "legacy_district_code": None}, at(DAY))
    job = vacancy_event(gen.vacancies_of(gen.employer(0))[0], "v1", "e1")
    await insights.publish("vacancy.opened", "v1", job | {"social_insurance": True}, at(DAY))
    await insights.publish("vacancy.opened", "v2", job | {"vacancy_id": "v2", "social_insurance": False}, at(DAY))
    await insights.publish("vacancy.opened", "v3", job | {"vacancy_id": "v3", "social_insurance": True}, at(DAY))
    fair_day = DAY + timedelta(days=10)
    for n, cid in enumerate(people, 1):
        await insights.publish("invitation.issued", f"i{n}", {"invitation_id": f"i{n}", "job_fair_id": "f1",
                               "candidate_id": cid, "vacancy_id": "v1"}, at(DAY + timedelta(days=3)))
    await insights.publish("invitation.revoked", "i4", {"invitation_id": "i4", "job_fair_id": "f1",
                                                        "candidate_id": "c4", "reason": "x"}, at(DAY + timedelta(days=4)))
    for inv, answer in (("i1", "accept"), ("i2", "accept"), ("i3", "decline")):
        await insights.publish("invitation.responded", inv, {"invitation_id": inv, "answer": answer},
                               at(DAY + timedelta(days=5)))
    for inv, cid, outcome in (("i1", "c1", "hired"), ("i2", "c2", "attended")):
        await insights.publish("invitation.outcome_recorded", inv, {
            "invitation_id": inv, "job_fair_id": "f1", "vacancy_id": "v1", "candidate_id": cid, "outcome": outcome,
            "recorded_at": at(fair_day, 15).isoformat()}, at(fair_day, 16))
    # an answer travels on another topic than its invitation and may come first
    await insights.publish("invitation.responded", "i5", {"invitation_id": "i5", "answer": "accept"},
                           at(DAY + timedelta(days=5)))
    await insights.publish("invitation.issued", "i5", {"invitation_id": "i5", "job_fair_id": "f2",
                           "candidate_id": "c4", "vacancy_id": "v2"}, at(DAY + timedelta(days=5)))
    await insights.settled()

    body = await insights.get("indicators", a, at=fair_day.isoformat())
    assert body["vocational_share"] == {"count": 2, "of": 4, "share": 0.5, "target": 0.4, "met": True}
    assert body["social_insurance_share"] == {"count": 2, "of": 3, "share": 0.6667, "target": None, "met": None}
    assert body["placements"] == {"hires": 1, "priority_hires": 1,
                                  "by_priority_group": {"poor_household": 1, "youth": 1}}
    assert body["median_days_to_hire"] == 10.25  # registered at 09:00, hired at 15:00 ten days later
    fair, later_fair = body["job_fairs"]
    assert {k: later_fair[k] for k in ("job_fair_id", "invited", "accepted")} == {
        "job_fair_id": "f2", "invited": 1, "accepted": 1}
    assert {k: fair[k] for k in ("job_fair_id", "invited", "accepted", "attended", "hired")} == {
        "job_fair_id": "f1", "invited": 3, "accepted": 2, "attended": 2, "hired": 1}
    assert fair["by_ward"] == {"11311": {"invited": 2, "accepted": 2, "attended": 2, "hired": 1},
                               "11506": {"invited": 1, "accepted": 0, "attended": 0, "hired": 0}}
    assert fair["by_priority_group"]["poor_household"] == {"invited": 1, "accepted": 1, "attended": 1, "hired": 1}

    earlier = await insights.get("indicators", a, at=(fair_day - timedelta(days=1)).isoformat())
    assert earlier["placements"]["hires"] == 0 and earlier["median_days_to_hire"] is None


async def test_csv_export_and_bad_questions(insights: Insights) -> None:
    a = await admin(insights)
    await load_population(insights, candidates=60, employers=8)
    response = await insights.http.get("/api/v1/stats/supply-demand", headers=a, params={
        "at": DAY.isoformat(), "group_by": ["province", "occupation2"], "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["province", "occupation2", "candidates", "vacancies", "openings", "ratio", "shortage_index"]
    body = await insights.get("supply-demand", a, at=DAY.isoformat(), group_by=["province", "occupation2"])
    assert len(rows) - 1 == len(body["items"])

    page = await insights.get("supply-demand", a, at=DAY.isoformat(), limit=3)
    rest = await insights.get("supply-demand", a, at=DAY.isoformat(), limit=1000, cursor=page["next_cursor"])
    full = await insights.get("supply-demand", a, at=DAY.isoformat())
    assert page["items"] + rest["items"] == full["items"] and rest["next_cursor"] is None

    for params in ({"group_by": ["ward", "ward"]}, {"group_by": "age"}, {"at": "2026-13-01"}, {"province": "x"},
                   {"at": "9999-12-31"}):
        bad = await insights.http.get("/api/v1/stats/supply-demand", params=params, headers=a)
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json", params
    assert (await insights.http.get("/api/v1/stats/indicators")).status_code == 401
    centre = await insights.bearer(["candidates:read"])
    assert (await insights.http.get("/api/v1/stats/indicators", headers=centre)).status_code == 403


async def test_a_rebuild_from_the_topics_gives_the_same_numbers(insights: Insights) -> None:
    a = await admin(insights)
    people, _jobs = await load_population(insights, candidates=200, employers=20)
    hired, gone = [p["candidate_id"] for p in people if p["status"] == "seeking"][:2]
    await insights.publish("candidate.updated", hired, {"candidate_id": hired, "version": 2, "status": "employed"},
                           at(DAY + timedelta(days=1)))
    await insights.publish("candidate.erased", gone, {"candidate_id": gone, "version": 2}, at(DAY + timedelta(days=2)))
    await insights.settled()

    async def snapshot() -> list:
        return [await insights.get("supply-demand", a, at=(DAY + timedelta(days=d)).isoformat(),
                                   group_by=["occupation2", "province"]) for d in range(3)] + \
               [await insights.get("indicators", a, at=(DAY + timedelta(days=2)).isoformat())]

    before = await snapshot()
    ctx = insights.ctx
    applied = await ctx.extras["insights"].rebuild(ctx.db, insights.bus, registry, inbox, GROUPS)
    assert applied == insights.published
    assert await snapshot() == before
    assert before[1]["totals"]["candidates"] == before[0]["totals"]["candidates"] - 1
    assert before[2]["totals"]["candidates"] == before[0]["totals"]["candidates"] - 2


async def test_the_report_renders_its_charts_in_vietnamese(insights: Insights) -> None:
    import base64
    import re

    a = await admin(insights)
    people, _jobs = await load_population(insights, candidates=120, employers=12)
    await insights.publish("invitation.issued", "i1", {"invitation_id": "i1", "job_fair_id": "f1",
                           "candidate_id": people[0]["candidate_id"], "vacancy_id": "v"}, at(DAY))
    await insights.settled()
    response = await insights.http.get("/api/v1/stats/report", headers=a, params={"at": DAY.isoformat()})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "img-src data:" in response.headers["content-security-policy"]
    page = response.text
    assert "Báo cáo thị trường lao động ngày 02/11/2026" in page and "Thiếu hụt theo nghề và địa bàn" in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 3  # shortage, indicators, funnel (no month before this one to forecast from)
    for image in images:
        png = base64.b64decode(image)
        assert png.startswith(b"\x89PNG") and len(png) > 5000

    # asked again, unchanged: the same page (not drawn again), or a 304 for the ETag it came with
    tag = response.headers["etag"]
    params = {"at": DAY.isoformat()}
    again = await insights.http.get("/api/v1/stats/report", headers=a, params=params)
    assert again.text == page and again.headers["etag"] == tag
    held = await insights.http.get("/api/v1/stats/report", headers={**a, "If-None-Match": tag}, params=params)
    assert held.status_code == 304 and not held.content
    await insights.publish("invitation.issued", "i2", {"invitation_id": "i2", "job_fair_id": "f1",
                           "candidate_id": people[1]["candidate_id"], "vacancy_id": "v"}, at(DAY))
    await insights.settled()  # one more invitation: the funnel changed, so does the page
    changed = await insights.http.get("/api/v1/stats/report", headers={**a, "If-None-Match": tag}, params=params)
    assert changed.status_code == 200 and changed.headers["etag"] != tag


async def test_the_report_of_an_empty_day(insights: Insights) -> None:
    import warnings

    a = await admin(insights)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no degenerate chart
        response = await insights.http.get("/api/v1/stats/report", headers=a, params={"at": "2026-01-01"})
    assert response.status_code == 200 and response.text.count("data:image/png;base64,") == 2


async def test_several_versions_of_one_person_in_one_batch(insights: Insights) -> None:
    """A batch of events is written together at its end; a later version of someone first seen
    in the same batch must still close what the earlier one opened."""
    from kit.events import Envelope

    a = await admin(insights)
    service = insights.ctx.extras["insights"]
    person = {"candidate_id": "c1", "status": "seeking", "occupations": ["7212", "7213"], "ward_code": "11311"}
    events = [("candidate.registered", person | {"version": 1}, 0), ("candidate.updated", person | {"version": 2,
               "occupations": ["8322"]}, 1), ("candidate.erased", {"candidate_id": "c1", "version": 3}, 2),
              ("candidate.registered", person | {"candidate_id": "c2", "version": 1}, 0)]
    async with insights.ctx.db.transaction() as session:
        for event_type, data, day in events:
            envelope = Envelope(source="/tests", type=event_type, subject=data["candidate_id"],
                                time=at(DAY + timedelta(days=day)), data=data)
            await service.apply(session, envelope, registry.parse(envelope))

    async def occupations(day: int) -> dict[str, int]:
        body = await insights.get("supply-demand", a, at=(DAY + timedelta(days=day)).isoformat(),
                                  group_by="occupation4")
        return {r["group"]["occupation4"]: r["candidates"] for r in body["items"]}

    assert await occupations(0) == {"7212": 2, "7213": 2}
    assert await occupations(1) == {"7212": 1, "7213": 1, "8322": 1}
    assert await occupations(2) == {"7212": 1, "7213": 1}
