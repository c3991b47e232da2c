"""Employers and vacancies through the gateway: rules, ownership, search, closing and filling."""

from __future__ import annotations

import asyncio

import pytest

from kit.events import Envelope
from tests.vacancies.conftest import Vacancies, tax_code

WARD = "11311"  # Phường Hồng Bàng, Hải Phòng (post-2025)
OTHER_WARD = "11506"


async def centre(v: Vacancies, name: str) -> dict[str, str]:
    return await v.bearer(["vacancies:read", "vacancies:write"], centre_id=name)


def employer(serial: int = 1, **overrides: object) -> dict:
    body = {
        "name": "Công ty TNHH Điện tử Hải Long",
        "tax_code": tax_code(serial),
        "industry": "C",
        "fdi": False,
        "address": {"ward_code": WARD, "detail": "KCN Đình Vũ"},
    }
    body.update(overrides)
    return body


def vacancy(employer_id: str, **overrides: object) -> dict:
    body = {
        "employer_id": employer_id,
        "title": "Thợ hàn điện",
        "occupation": "7212",
        "required_skills": [{"skill": "hàn điện", "kind": "must"}, {"skill": "đọc bản vẽ", "kind": "nice"}],
        "min_trade_level": 3,
        "openings": 2,
        "wage_min_vnd": 9_000_000,
        "wage_max_vnd": 14_000_000,
        "social_insurance": True,
        "shifts": "2 ca",
        "deadline": "2026-12-31",
    }
    body.update(overrides)
    return body


async def open_one(v: Vacancies, headers: dict[str, str], serial: int = 1, **overrides: object) -> tuple[str, dict]:
    e = await v.http.post("/api/v1/employers", json=employer(serial), headers=headers)
    assert e.status_code == 201, e.text
    created = await v.http.post("/api/v1/vacancies", json=vacancy(e.json()["id"], **overrides), headers=headers)
    assert created.status_code == 201, created.text
    return e.json()["id"], created.json()


async def test_employer_and_vacancy_are_registered_and_announced(vacancies: Vacancies) -> None:
    a = await centre(vacancies, "centre-a")
    e = await vacancies.http.post("/api/v1/employers", json=employer(), headers=a)
    assert e.status_code == 201, e.text
    assert e.headers["location"] == f"/api/v1/employers/{e.json()['id']}"
    assert e.json()["name"] == "Công ty TNHH Điện tử Hải Long" and e.json()["address"]["legacy_district_code"] == "303"

    created = await vacancies.http.post("/api/v1/vacancies", json=vacancy(e.json()["id"]), headers=a)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "open" and body["version"] == 1 and body["hires"] == 0
    assert body["workplace"]["ward_code"] == WARD and body["workplace"]["lat"]  # from the employer's address
    assert [(s["code"], s["kind"]) for s in body["required_skills"]] == [("SK0101", "must"), (body["required_skills"][1]["code"], "nice")]
    assert body["min_qualification"] == "none" and body["accepts_priority_groups"] is True

    read = await vacancies.http.get(f"/api/v1/vacancies/{body['id']}", headers=a)
    assert read.json() == body
    [registered] = await vacancies.events_of(e.json()["id"], 1)
    assert registered["type"] == "employer.registered" and registered["data"]["tax_code"] == tax_code(1)
    [opened] = await vacancies.events_of(body["id"], 1)
    assert opened["type"] == "vacancy.opened" and opened["data"]["version"] == 1
    assert opened["data"]["required_skills"][0] == {"code": "SK0101", "text": "hàn điện", "kind": "must"}
    assert opened["data"]["lat"] == body["workplace"]["lat"] and opened["data"]["openings"] == 2


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"tax_code": "031440905"}, "tax_code", "10 digits"),
        ({"tax_code": "0314409059"}, "tax_code", "check digit"),
        ({"tax_code": "0314409058-01"}, "tax_code", "3-digit branch"),
        ({"tax_code": "0314409058-000"}, "tax_code", "001"),
        ({"industry": "Z"}, "industry", "VSIC"),
        ({"name": "  ...  "}, "name", "letters"),
        ({"address": {"ward_code": "99999"}}, "address.ward_code", "99999"),
        ({"contact_email": "not-an-email"}, "contact_email", "pattern"),
    ],
)
async def test_employer_validation_names_the_field(vacancies: Vacancies, change: dict, field: str, words: str) -> None:
    a = await centre(vacancies, "centre-a")
    r = await vacancies.http.post("/api/v1/employers", json=employer(**change), headers=a)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert field in errors and words in errors[field], errors


async def test_branch_tax_codes_and_duplicates(vacancies: Vacancies) -> None:
    a = await centre(vacancies, "centre-a")
    head = await vacancies.http.post("/api/v1/employers", json=employer(7), headers=a)
    branch = await vacancies.http.post("/api/v1/employers", json=employer(7, tax_code=tax_code(7, 2)), headers=a)
    assert head.status_code == branch.status_code == 201
    assert branch.json()["tax_code"] == tax_code(7, 2)
    # 13 digits without the dash are the same branch
    again = await vacancies.http.post("/api/v1/employers", json=employer(7, tax_code=tax_code(7, 2).replace("-", "")),
                                      headers=await centre(vacancies, "centre-b"))
    assert again.status_code == 409, again.text
    assert again.json()["type"].endswith("duplicate-employer") and again.json()["existing_id"] == branch.json()["id"]
    both = await vacancies.http.get("/api/v1/employers", params={"tax_code": tax_code(7)}, headers=a)
    assert {e["id"] for e in both.json()["items"]} == {head.json()["id"], branch.json()["id"]}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"occupation": "9999"}, "occupation", "9999"),
        ({"occupation": "72"}, "occupation", "pattern"),
        ({"openings": 0}, "openings", "1"),
        ({"wage_min_vnd": 15_000_000}, "wage_max_vnd", "is below wage_min_vnd"),
        ({"wage_min_vnd": -5}, "wage_min_vnd", "0"),
        ({"deadline": "2026-12-01"}, "deadline", "future"),
        ({"deadline": "2026-11-20"}, "deadline", "future"),
        ({"min_trade_level": 8}, "min_trade_level", "7"),
        ({"min_qualification": "phd"}, "min_qualification", "none"),
        ({"required_skills": [{"skill": "hàn điện", "kind": "maybe"}]}, "required_skills.0.kind", "must"),
        ({"required_skills": [{"skill": " … "}]}, "required_skills.0.skill", "letters or digits"),
        ({"workplace": {"ward_code": "00000"}}, "workplace.ward_code", "00000"),
        ({"workplace": {"legacy_district_code": "303"}}, "workplace.ward_code", "ward"),
        ({"employer_id": "no-such-employer"}, "employer_id", "no employer"),
    ],
)
async def test_vacancy_validation_names_the_field(vacancies: Vacancies, change: dict, field: str, words: str) -> None:
    a = await centre(vacancies, "centre-a")
    e = await vacancies.http.post("/api/v1/employers", json=employer(), headers=a)
    r = await vacancies.http.post("/api/v1/vacancies", json={**vacancy(e.json()["id"]), **change}, headers=a)
    assert r.status_code == 422, r.text
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert field in errors and words in errors[field], errors


async def test_only_the_registering_centre_changes_what_it_registered(vacancies: Vacancies) -> None:
    a, b = await centre(vacancies, "centre-a"), await centre(vacancies, "centre-b")
    employer_id, v = await open_one(vacancies, a)
    reader = await vacancies.bearer(["vacancies:read"], centre_id="mobile-app")
    assert (await vacancies.http.get(f"/api/v1/vacancies/{v['id']}", headers=reader)).status_code == 200
    assert (await vacancies.http.get(f"/api/v1/vacancies/{v['id']}", headers=b)).status_code == 200

    r = await vacancies.http.patch(f"/api/v1/vacancies/{v['id']}", json={"openings": 9}, headers=b)
    assert r.status_code == 403 and r.json()["type"].endswith("not-your-vacancy")
    r = await vacancies.http.post(f"/api/v1/vacancies/{v['id']}:close", headers=b)
    assert r.status_code == 403
    r = await vacancies.http.post("/api/v1/vacancies", json=vacancy(employer_id), headers=b)
    assert r.status_code == 403 and r.json()["type"].endswith("not-your-employer")
    r = await vacancies.http.post("/api/v1/vacancies", json=vacancy(employer_id), headers=reader)
    assert r.status_code == 403  # no vacancies:write
    # the centre is taken from the token, never from the body
    r = await vacancies.http.post("/api/v1/vacancies", json={**vacancy(employer_id), "centre_id": "centre-b"}, headers=a)
    assert r.status_code == 422


async def test_update_is_versioned_and_announced(vacancies: Vacancies) -> None:
    a = await centre(vacancies, "centre-a")
    _e, v = await open_one(vacancies, a)
    r = await vacancies.http.patch(
        f"/api/v1/vacancies/{v['id']}",
        json={"openings": 5, "required_skills": [{"skill": "hàn TIG", "kind": "must"}], "workplace": {"ward_code": OTHER_WARD}},
        headers=a,
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["openings"] == 5 and r.json()["workplace"]["ward_code"] == OTHER_WARD
    bad = await vacancies.http.patch(f"/api/v1/vacancies/{v['id']}", json={"wage_min_vnd": 20_000_000}, headers=a)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "wage_min_vnd"
    bad = await vacancies.http.patch(f"/api/v1/vacancies/{v['id']}", json={"openings": None}, headers=a)
    assert bad.status_code == 422
    events = await vacancies.events_of(v["id"], 2)
    assert [(e["type"], e["data"]["version"]) for e in events] == [("vacancy.opened", 1), ("vacancy.updated", 2)]
    assert events[1]["data"]["ward_code"] == OTHER_WARD
    back = await vacancies.http.patch(f"/api/v1/vacancies/{v['id']}", json={"workplace": None}, headers=a)
    assert back.status_code == 200 and back.json()["workplace"]["ward_code"] == WARD  # the employer's address again
    assert (await vacancies.events_of(v["id"], 3))[2]["data"]["ward_code"] == WARD


async def test_search_filters_and_diacritics_insensitive_q(vacancies: Vacancies) -> None:
    a = await centre(vacancies, "centre-a")
    e1, welder = await open_one(vacancies, a, 1)
    e2 = (await vacancies.http.post("/api/v1/employers", json=employer(
        2, name="Công ty May Đông Hải", industry="c", address={"ward_code": OTHER_WARD}), headers=a)).json()
    sewer = (await vacancies.http.post("/api/v1/vacancies", json=vacancy(
        e2["id"], title="Công nhân may công nghiệp", occupation="8153", min_trade_level=1,
        required_skills=[{"skill": "may công nghiệp"}], wage_min_vnd=6_000_000, wage_max_vnd=7_500_000,
        workplace={"ward_code": OTHER_WARD}), headers=a)).json()
    assert e2["industry"] == "C"

    async def ids(**params: object) -> set[str]:
        r = await vacancies.http.get("/api/v1/vacancies", params=params, headers=a)
        assert r.status_code == 200, r.text
        return {v["id"] for v in r.json()["items"]}

    assert await ids(q="han dien") == {welder["id"]}
    assert await ids(q="DONG HAI") == {sewer["id"]}  # the employer's name
    assert await ids(q="may cong") == {sewer["id"]}
    assert await ids(occupation="72") == {welder["id"]} and await ids(occupation="8153") == {sewer["id"]}
    assert await ids(skill="hàn điện") == {welder["id"]} and await ids(skill="SK0101") == {welder["id"]}
    assert await ids(ward=OTHER_WARD) == {sewer["id"]}
    assert await ids(min_trade_level=2) == {welder["id"]} and await ids(max_trade_level=2) == {sewer["id"]}
    assert await ids(min_wage_vnd=10_000_000) == {welder["id"]}
    too_big = await vacancies.http.get("/api/v1/vacancies", params={"min_wage_vnd": 10**24}, headers=a)
    assert too_big.status_code == 422 and too_big.json()["status"] == 422  # not a database overflow
    assert await ids(employer_id=e1) == {welder["id"]}
    assert await ids(status="open") == {welder["id"], sewer["id"]} and await ids(status="closed") == set()

    page = await vacancies.http.get("/api/v1/vacancies", params={"limit": 1}, headers=a)
    rest = await vacancies.http.get("/api/v1/vacancies", params={"limit": 1, "cursor": page.json()["next_cursor"]}, headers=a)
    assert {page.json()["items"][0]["id"], rest.json()["items"][0]["id"]} == {welder["id"], sewer["id"]}
    assert rest.json()["next_cursor"] is None

    found = await vacancies.http.get("/api/v1/employers", params={"name": "dong hai"}, headers=a)
    assert [x["id"] for x in found.json()["items"]] == [e2["id"]]
    found = await vacancies.http.get("/api/v1/employers", params={"industry": "c", "ward": WARD}, headers=a)
    assert [x["id"] for x in found.json()["items"]] == [e1]


async def test_close_by_hand_then_no_more_changes(vacancies: Vacancies) -> None:
    a = await centre(vacancies, "centre-a")
    _e, v = await open_one(vacancies, a)
    closed = await vacancies.http.post(f"/api/v1/vacancies/{v['id']}:close", headers=a)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["close_reason"] == "by_employer" and closed.json()["version"] == 2
    again = await vacancies.http.post(f"/api/v1/vacancies/{v['id']}:close", headers=a)
    assert again.status_code == 409 and again.json()["type"].endswith("vacancy-not-open")
    patch = await vacancies.http.patch(f"/api/v1/vacancies/{v['id']}", json={"openings": 3}, headers=a)
    assert patch.status_code == 409
    events = await vacancies.events_of(v["id"], 2)
    assert events[-1]["type"] == "vacancy.closed" and events[-1]["data"]["reason"] == "by_employer"


async def test_vacancies_close_automatically_after_their_deadline(vacancies: Vacancies) -> None:
    a = await centre(vacancies, "centre-a")
    _e, soon = await open_one(vacancies, a, deadline="2026-12-05")
    later = (await vacancies.http.post("/api/v1/vacancies", json=vacancy(_e, deadline="2027-01-15"), headers=a)).json()

    vacancies.clock.advance(days=4)  # 5 Dec, 10:00 in Việt Nam: the last day to apply
    assert await vacancies.close_expired() == 0
    vacancies.clock.advance(hours=14)  # 6 Dec, 00:00 in Việt Nam

    # the service's own timer closes it (it runs every 50 ms in this test)
    async def status_of(vacancy_id: str) -> str:
        return (await vacancies.http.get(f"/api/v1/vacancies/{vacancy_id}", headers=a)).json()["status"]

    for _ in range(200):
        if await status_of(soon["id"]) == "closed":
            break
        await asyncio.sleep(0.05)
    read = (await vacancies.http.get(f"/api/v1/vacancies/{soon['id']}", headers=a)).json()
    assert read["status"] == "closed" and read["close_reason"] == "deadline"
    assert await status_of(later["id"]) == "open"
    events = await vacancies.events_of(soon["id"], 2)
    assert events[-1]["type"] == "vacancy.closed" and events[-1]["data"]["reason"] == "deadline"
    assert await vacancies.close_expired() == 0


def outcome(vacancy_id: str, invitation_id: str, result: str = "hired") -> Envelope:
    return Envelope(
        source="/joblink/matching", type="invitation.outcome_recorded", subject=invitation_id,
        data={"invitation_id": invitation_id, "vacancy_id": vacancy_id, "candidate_id": "c-1", "job_fair_id": "f-1",
              "outcome": result, "recorded_at": "2026-12-10T09:00:00+07:00"},
    )


async def test_hires_from_outcome_events_fill_the_vacancy_once_each(vacancies: Vacancies) -> None:
    a = await centre(vacancies, "centre-a")
    _e, v = await open_one(vacancies, a)  # 2 openings
    first = outcome(v["id"], "inv-1")
    await vacancies.publish(first)
    await vacancies.publish(first)  # the same event delivered twice
    await vacancies.publish(outcome(v["id"], "inv-1"))  # the same invitation's hire, recorded again
    await vacancies.publish(outcome(v["id"], "inv-2", "attended"))
    await vacancies.publish(outcome(v["id"], "inv-3", "no_show"))

    async def read() -> dict:
        return (await vacancies.http.get(f"/api/v1/vacancies/{v['id']}", headers=a)).json()

    events = await vacancies.events_of(v["id"], 2)
    await asyncio.sleep(0.3)  # let the duplicates and the non-hires arrive too
    assert (await read())["hires"] == 1 and (await read())["status"] == "open"
    assert [e["type"] for e in await vacancies.events_of(v["id"], 2)] == ["vacancy.opened", "vacancy.updated"]
    assert events[1]["data"]["hires"] == 1

    await vacancies.publish(outcome(v["id"], "inv-4"))
    events = await vacancies.events_of(v["id"], 3)
    assert events[2]["type"] == "vacancy.closed" and events[2]["data"] == {
        "vacancy_id": v["id"], "version": 3, "status": "filled", "reason": "filled", "hires": 2}
    final = await read()
    assert final["status"] == "filled" and final["hires"] == 2 and final["close_reason"] == "filled"
    await vacancies.publish(outcome(v["id"], "inv-5"))  # a late hire still counts, no second close
    for _ in range(100):
        if (await read())["hires"] == 3:
            break
        await asyncio.sleep(0.05)
    assert (await read())["status"] == "filled" and (await read())["hires"] == 3


async def test_events_of_a_vacancy_are_in_version_order(vacancies: Vacancies) -> None:
    a = await centre(vacancies, "centre-a")
    _e, v = await open_one(vacancies, a)
    for n in range(3, 8):
        r = await vacancies.http.patch(f"/api/v1/vacancies/{v['id']}", json={"openings": n}, headers=a)
        assert r.status_code == 200
    await vacancies.http.post(f"/api/v1/vacancies/{v['id']}:close", headers=a)
    events = await vacancies.events_of(v["id"], 7)
    assert [e["data"]["version"] for e in events] == list(range(1, 8))
    assert [e["type"] for e in events] == ["vacancy.opened"] + ["vacancy.updated"] * 5 + ["vacancy.closed"]
