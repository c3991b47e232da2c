"""Candidates through the gateway: registration rules, privacy, ownership, search, erasure."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from tests.candidates.conftest import Candidates

WARD = "11311"  # Phường Hồng Bàng, Hải Phòng (post-2025)
TODAY = date.today()


def person(**overrides: object) -> dict:
    born = date(1995, 3, 14)
    body = {
        "full_name": "Nguyễn Văn An",
        "date_of_birth": born.isoformat(),
        "gender": "male",
        "phone": "0912 345 678",
        "email": "an.nguyen@example.vn",
        "national_id": "031095001234",
        "address": {"ward_code": WARD, "detail": "Số 5 Lạch Tray"},
        "occupations": ["7212"],
        "skills": ["hàn điện", "lai xe nang", "nuôi chim cảnh"],
        "trade_level": 3,
        "qualification": "intermediate",
        "experience_years": 6,
        "desired_wage_vnd": 12_000_000,
        "max_commute_km": 15,
        "priority_groups": ["demobilised_soldier"],
        "consents": {"matching": {"granted": True, "source": "phiếu đăng ký"}},
    }
    body.update(overrides)
    return body


async def centre(c: Candidates, name: str) -> dict[str, str]:
    return await c.bearer(["candidates:read", "candidates:write"], centre_id=name)


async def test_register_read_and_the_event_without_personal_data(candidates: Candidates) -> None:
    a = await centre(candidates, "centre-a")
    created = await candidates.http.post("/api/v1/candidates", json=person(), headers=a)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/candidates/{body['id']}"
    assert body["full_name"] == "Nguyễn Văn An" and body["phone"] == "+84912345678"
    assert body["national_id"] == "*********234" and body["centre_id"] == "centre-a"
    assert [s["code"] for s in body["skills"]][:2] == ["SK0101", "SK0601"]
    assert body["skills"][2] == {"code": None, "label_vi": None, "text": "nuôi chim cảnh"}
    assert body["address"]["lat"] and body["address"]["legacy_district_code"] == "303"

    read = await candidates.http.get(f"/api/v1/candidates/{body['id']}", headers=a)
    assert read.json() == body
    [event] = await candidates.events_of(body["id"], 1)
    assert event["type"] == "candidate.registered" and event["data"]["version"] == 1
    raw = str(event)
    for secret in ("Nguyễn", "912345678", "031095001234", "an.nguyen", "Lạch Tray"):
        assert secret not in raw
    assert event["data"]["consents"] == {"matching": True} and event["data"]["ward_code"] == WARD


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"phone": "01623456789"}, "phone", "2018"),
        ({"phone": "12345"}, "phone", "phone"),
        ({"national_id": "031096001234"}, "national_id", "year-of-birth"),
        ({"national_id": "099095001234"}, "national_id", "province"),
        ({"national_id": "031195001234"}, "national_id", "sex digit"),
        ({"national_id": "31095001234"}, "national_id", "12 digits"),
        ({"address": {"ward_code": "99999"}}, "address.ward_code", "99999"),
        ({"address": {"legacy_district_code": "999"}}, "address.legacy_district_code", "999"),
        ({"address": {"legacy_ward_code": "99999"}}, "address.legacy_ward_code", "99999"),
        ({"address": {"legacy_ward_code": "11329", "legacy_district_code": "305"}}, "address.legacy_ward_code",
         "ward of legacy district 305"),
        ({"address": {}}, "address", "ward_code"),
        ({"trade_level": 8}, "trade_level", "7"),
        ({"date_of_birth": date(TODAY.year - 14, 1, 1).isoformat(), "national_id": None}, "date_of_birth", "labour age"),
        ({"desired_wage_vnd": -1}, "desired_wage_vnd", "0"),
        ({"occupations": ["9999"]}, "occupations.0", "9999"),
        ({"occupations": ["72"]}, "occupations", "4 digits"),
        ({"centre_id": "centre-z"}, "centre_id", "xtra"),
        ({"email": "not-an-email"}, "email", ""),
    ],
)
async def test_each_rule_has_a_clear_field_error(candidates: Candidates, change: dict, field: str, words: str) -> None:
    a = await centre(candidates, "centre-a")
    response = await candidates.http.post("/api/v1/candidates", json=person(**change), headers=a)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["field"] == field and words in e["message"] for e in errors), errors
    assert not any(e["message"].startswith("Value error") for e in errors), errors  # pydantic's prefix dropped
    assert "0162345" not in response.text and "031096001234" not in response.text


async def test_duplicates(candidates: Candidates) -> None:
    a, b = await centre(candidates, "centre-a"), await centre(candidates, "centre-b")
    first = (await candidates.http.post("/api/v1/candidates", json=person(), headers=a)).json()
    same_id = await candidates.http.post("/api/v1/candidates", json=person(phone="0987654321"), headers=a)
    assert same_id.status_code == 409 and same_id.json()["existing_id"] == first["id"]
    hidden = await candidates.http.post("/api/v1/candidates", json=person(phone="0987654321"), headers=b)
    assert hidden.status_code == 409 and "existing_id" not in hidden.json()
    same_person = await candidates.http.post(
        "/api/v1/candidates", json=person(national_id=None, full_name="NGUYEN VAN AN"), headers=a
    )
    assert same_person.status_code == 409 and "phone" in same_person.json()["detail"]
    family = await candidates.http.post(
        "/api/v1/candidates",
        json=person(national_id=None, full_name="Nguyễn Thị Bình", gender="female", date_of_birth="1999-07-02"),
        headers=a,
    )
    assert family.status_code == 201  # a shared phone alone is not a duplicate


async def test_other_centres_see_masked_data_and_cannot_change_it(candidates: Candidates) -> None:
    a, b = await centre(candidates, "centre-a"), await centre(candidates, "centre-b")
    cid = (await candidates.http.post("/api/v1/candidates", json=person(), headers=a)).json()["id"]
    seen = (await candidates.http.get(f"/api/v1/candidates/{cid}", headers=b)).json()
    assert seen["masked"] is True
    assert seen["full_name"] == "Nguyễn V. A." and seen["phone"] == "+8491*****78"
    assert seen["email"] == "a***@example.vn" and seen["date_of_birth"] is None
    assert seen["national_id"] is None and seen["address"]["detail"] is None
    assert (await candidates.http.patch(f"/api/v1/candidates/{cid}", json={"trade_level": 5}, headers=b)).status_code == 403
    assert (await candidates.http.delete(f"/api/v1/candidates/{cid}", headers=b)).status_code == 403
    listed = (await candidates.http.get("/api/v1/candidates", params={"q": "nguyen"}, headers=b)).json()
    assert listed["items"] == []


async def test_search_filters_diacritics_and_cursor(candidates: Candidates) -> None:
    a = await centre(candidates, "centre-a")
    names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thu Hà", "Nguyễn Anh Tuấn"]
    for i, name in enumerate(names):
        body = person(full_name=name, national_id=None, phone=f"09123450{i:02d}", trade_level=1 + i,
                      occupations=["7212" if i % 2 == 0 else "8153"])
        assert (await candidates.http.post("/api/v1/candidates", json=body, headers=a)).status_code == 201

    async def names_for(**params: object) -> list[str]:
        page = (await candidates.http.get("/api/v1/candidates", params=params, headers=a)).json()
        return [c["full_name"] for c in page["items"]]

    assert await names_for(q="nguyen van an") == ["Nguyễn Văn An"]
    assert await names_for(q="NGUYỄN") == ["Nguyễn Văn An", "Nguyễn Anh Tuấn"]
    assert await names_for(occupation="8153") == ["Trần Thị Bình", "Phạm Thu Hà"]
    assert await names_for(min_trade_level=4) == ["Phạm Thu Hà", "Nguyễn Anh Tuấn"]
    assert await names_for(skill="han dien", min_trade_level=5) == ["Nguyễn Anh Tuấn"]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await candidates.http.get("/api/v1/candidates", params=params, headers=a)).json()
        seen += [c["full_name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == names
    for garbage in ("zzzz", "0", "FFFFFFFF-FFFF-7FFF-BFFF-FFFFFFFFFFFF"):  # upper case: no id is written so
        refused = await candidates.http.get("/api/v1/candidates", params={"cursor": garbage}, headers=a)
        assert refused.status_code == 422, (garbage, refused.text)  # not read as a position: no silent empty page
        assert refused.json()["errors"] == [
            {"field": "cursor", "message": "not a next_cursor this list returned (pass it on exactly as it came)"}]


async def test_withdrawing_matching_consent_is_announced(candidates: Candidates) -> None:
    a = await centre(candidates, "centre-a")
    cid = (await candidates.http.post("/api/v1/candidates", json=person(), headers=a)).json()["id"]
    patched = await candidates.http.patch(
        f"/api/v1/candidates/{cid}", json={"consents": {"matching": {"granted": False, "source": "gọi điện"}}}, headers=a
    )
    assert patched.status_code == 200 and patched.json()["consents"]["matching"]["granted"] is False
    events = await candidates.events_of(cid, 2)
    assert events[1]["type"] == "candidate.updated"
    assert events[1]["data"]["version"] == 2 and events[1]["data"]["consents"] == {"matching": False}


async def test_null_in_a_patch_empties_what_may_be_empty_and_is_refused_elsewhere(candidates: Candidates) -> None:
    a = await centre(candidates, "centre-a")
    cid = (await candidates.http.post("/api/v1/candidates", json=person(certificates=["Chứng chỉ hàn 3G"],
                                                                        experience_years=4), headers=a)).json()["id"]
    emptied = await candidates.http.patch(f"/api/v1/candidates/{cid}", headers=a, json={
        "certificates": None, "experience_years": None, "gender": None, "trade_level": None, "skills": None})
    assert emptied.status_code == 200, emptied.text
    body = emptied.json()
    assert (body["certificates"], body["experience_years"], body["gender"], body["trade_level"], body["skills"]) == \
        ([], 0, None, None, [])
    for field in ("full_name", "date_of_birth", "address", "status"):
        refused = await candidates.http.patch(f"/api/v1/candidates/{cid}", json={field: None}, headers=a)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"] == [{"field": field, "message": "may not be null"}]
    for name, words in (("   ", "at least 2"), ("12 34", "letters")):
        refused = await candidates.http.patch(f"/api/v1/candidates/{cid}", json={"full_name": name}, headers=a)
        assert refused.status_code == 422 and words in refused.json()["errors"][0]["message"], refused.text
    renamed = await candidates.http.patch(f"/api/v1/candidates/{cid}", json={"full_name": "  Trần   Thị Bình "},
                                          headers=a)
    assert renamed.json()["full_name"] == "Trần Thị Bình"
    found = await candidates.http.get("/api/v1/candidates", params={"q": "tran thi binh"}, headers=a)
    assert [c["id"] for c in found.json()["items"]] == [cid]
    assert (await candidates.http.get(f"/api/v1/candidates/{cid}", headers=a)).status_code == 200


async def test_erasure_leaves_no_personal_data(candidates: Candidates) -> None:
    a = await centre(candidates, "centre-a")
    cid = (await candidates.http.post("/api/v1/candidates", json=person(), headers=a)).json()["id"]
    assert (await candidates.http.delete(f"/api/v1/candidates/{cid}", headers=a)).status_code == 202
    assert (await candidates.http.get(f"/api/v1/candidates/{cid}", headers=a)).status_code == 404
    async with candidates.db.reading() as session:
        row = dict((await session.execute(text("SELECT * FROM candidates WHERE id = :id"), {"id": cid})).mappings().one())
        tags = (await session.execute(text("SELECT kind, value FROM candidate_tags WHERE candidate_id = :id"),
                                      {"id": cid})).all()
    for column in ("full_name", "name_key", "date_of_birth", "phone", "email", "national_id_enc",
                   "national_id_hash", "person_hash", "address_detail"):
        assert row[column] is None, column
    assert row["ward_code"] == WARD and row["erased_at"] is not None  # the anonymous tombstone
    raw = str(row)
    assert "Nguy" not in raw and "nuôi chim" not in raw
    assert tags and not [t for t in tags if t.value.startswith("text:")]  # free-text skills went with the rest
    events = await candidates.events_of(cid, 2)
    assert events[-1]["type"] == "candidate.erased" and events[-1]["data"] == {"candidate_id": cid, "version": 2}
    again = await candidates.http.post("/api/v1/candidates", json=person(), headers=a)
    assert again.status_code == 201  # the person may register anew after erasure


async def test_contact_details_go_only_to_the_contacts_topic_and_only_with_consent(candidates: Candidates) -> None:
    import asyncio

    import orjson

    a = await centre(candidates, "centre-a")
    consent = {"granted": True, "source": "phiếu đăng ký"}
    silent = (await candidates.http.post("/api/v1/candidates", json=person(
        national_id=None, phone="0987 654 321"), headers=a)).json()
    notified = (await candidates.http.post("/api/v1/candidates", json=person(
        consents={"matching": consent, "notifications": consent}, contact_channels=["email", "sms"]),
        headers=a)).json()
    assert notified["contact_channels"] == ["email", "sms"] and silent["contact_channels"] == []

    async def contacts_of(candidate_id: str, at_least: int) -> list[dict]:
        deadline = asyncio.get_running_loop().time() + 20
        while len(found := [orjson.loads(m.value) for m in candidates.contacts if m.key == candidate_id]) < at_least:
            assert asyncio.get_running_loop().time() < deadline, found
            await asyncio.sleep(0.02)
        return found

    [event] = await contacts_of(notified["id"], 1)
    assert event["type"] == "candidate.contact_changed"
    assert event["data"] == {"candidate_id": notified["id"], "version": 1, "notifications": True,
                             "full_name": "Nguyễn Văn An", "phone": "+84912345678", "email": "an.nguyen@example.vn",
                             "channels": ["email", "sms"]}
    await candidates.events_of(silent["id"], 1)
    assert not [m for m in candidates.contacts if m.key == silent["id"]]  # no consent: nothing sent anywhere

    # a change of address is not a change of contact; a new phone is
    await candidates.http.patch(f"/api/v1/candidates/{notified['id']}", json={"max_commute_km": 5}, headers=a)
    await candidates.http.patch(f"/api/v1/candidates/{notified['id']}", json={"phone": "0903 111 222"}, headers=a)
    events = await contacts_of(notified["id"], 2)
    assert [(e["data"]["version"], e["data"]["phone"]) for e in events] == [(1, "+84912345678"), (3, "+84903111222")]
    # withdrawing consent sends an empty contact
    await candidates.http.patch(f"/api/v1/candidates/{notified['id']}", json={
        "consents": {"notifications": {"granted": False, "source": "gọi điện"}}}, headers=a)
    withdrawn = (await contacts_of(notified["id"], 3))[2]["data"]
    assert withdrawn["notifications"] is False and withdrawn["phone"] is None and withdrawn["full_name"] is None
    assert (await candidates.http.delete(f"/api/v1/candidates/{notified['id']}", headers=a)).status_code == 202
    erased = (await contacts_of(notified["id"], 4))[3]
    assert erased["type"] == "candidate.contact_erased" and erased["data"]["version"] == 5
    assert erased["data"]["email"] is None and erased["data"]["channels"] == []
    assert "an.nguyen" not in str([orjson.loads(m.value) for m in candidates.events])


async def test_contact_channels_are_checked(candidates: Candidates) -> None:
    a = await centre(candidates, "centre-a")
    for channels in (["sms", "sms"], ["fax"], ["sms", "email", "app", "sms"]):
        response = await candidates.http.post("/api/v1/candidates", json=person(contact_channels=channels), headers=a)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"].startswith("contact_channels")


async def test_text_with_a_nul_character_is_refused_not_stored(candidates: Candidates) -> None:
    """PostgreSQL cannot store U+0000 in text: such input is a 422 on every database, not a 500."""
    a = await centre(candidates, "centre-a")
    response = await candidates.http.post("/api/v1/candidates", json=person(full_name="Nguyễn\u0000An"), headers=a)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "NUL" in response.text
    search = await candidates.http.get("/api/v1/candidates", params={"q": "an\u0000"}, headers=a)
    assert search.status_code == 422, search.text
    # a backslash before "u0000" is text, not a NUL
    ok = await candidates.http.post("/api/v1/candidates", json=person(address={"ward_code": WARD, "detail": "Số 5\\u0000"}),
                                    headers=a)
    assert ok.status_code == 201, ok.text
