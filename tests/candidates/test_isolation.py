"""Centre isolation (BOLA) and mass assignment on the candidates API."""

from __future__ import annotations

import orjson

from tests.candidates.conftest import Candidates
from tests.candidates.test_candidates import person


async def test_centre_b_cannot_reach_centre_a_candidates(candidates: Candidates) -> None:
    a = await candidates.bearer(["candidates:read", "candidates:write"], centre_id="centre-a")
    b = await candidates.bearer(["candidates:read", "candidates:write"], centre_id="centre-b")
    created = (await candidates.http.post("/api/v1/candidates", json=person(), headers=a)).json()
    cid = created["id"]

    # read: only the masked view, never the personal fields
    seen = (await candidates.http.get(f"/api/v1/candidates/{cid}", headers=b)).json()
    assert seen["masked"] and seen["phone"] != created["phone"] and seen["national_id"] is None
    # update and erase: refused, and nothing changed
    assert (await candidates.http.patch(f"/api/v1/candidates/{cid}", json={"status": "employed"}, headers=b)).status_code == 403
    assert (await candidates.http.delete(f"/api/v1/candidates/{cid}", headers=b)).status_code == 403
    assert (await candidates.http.get(f"/api/v1/candidates/{cid}", headers=a)).json()["status"] == "seeking"
    # id guessing: unknown ids look the same as ids of nobody
    missing = await candidates.http.get(f"/api/v1/candidates/{cid[:-1]}{'1' if cid.endswith('0') else '0'}", headers=b)
    assert missing.status_code == 404
    # search filters never surface another centre's candidates
    for params in ({"q": "nguyen van an"}, {"occupation": "7212"}, {"skill": "SK0101"}, {"ward": "11311"},
                   {"priority_group": "demobilised_soldier"}, {"status": "seeking"}):
        assert (await candidates.http.get("/api/v1/candidates", params=params, headers=b)).json()["items"] == []
    # import over A's candidate: rejected as a duplicate without revealing A's id
    row = "full_name,date_of_birth,gender,phone,national_id,ward_code\nNguyễn Văn An,1995-03-14,male,0912345678,031095001234,11311\n"
    imported = await candidates.http.post("/api/v1/candidates:import", content=row.encode(), headers=b)
    result = orjson.loads(imported.text.splitlines()[0])
    assert "errors" in result and cid not in imported.text
    duplicate = await candidates.http.post("/api/v1/candidates", json=person(), headers=b)
    assert duplicate.status_code == 409 and cid not in duplicate.text


async def test_mass_assignment_is_rejected(candidates: Candidates) -> None:
    a = await candidates.bearer(["candidates:read", "candidates:write"], centre_id="centre-a")
    for extra in ({"centre_id": "centre-b"}, {"id": "01a00000-0000-7000-8000-000000000000"}, {"version": 99},
                  {"registered_by": "someone"}, {"erased_at": "2026-01-01T00:00:00Z"}):
        response = await candidates.http.post("/api/v1/candidates", json=person(**extra), headers=a)
        assert response.status_code == 422, extra
    cid = (await candidates.http.post("/api/v1/candidates", json=person(), headers=a)).json()["id"]
    for extra in ({"centre_id": "centre-b"}, {"id": "x"}, {"version": 1}):
        assert (await candidates.http.patch(f"/api/v1/candidates/{cid}", json=extra, headers=a)).status_code == 422
    assert (await candidates.http.patch(f"/api/v1/candidates/{cid}", json={"status": "retired"}, headers=a)).status_code == 422
    final = (await candidates.http.get(f"/api/v1/candidates/{cid}", headers=a)).json()
    assert final["centre_id"] == "centre-a" and final["version"] == 1


async def test_mobile_backend_sees_only_what_it_registered(candidates: Candidates) -> None:
    mobile = await candidates.bearer(["candidates:read", "candidates:write"])  # no centre
    other_mobile = await candidates.bearer(["candidates:read", "candidates:write"])
    cid = (await candidates.http.post("/api/v1/candidates", json=person(), headers=mobile)).json()["id"]
    assert (await candidates.http.get(f"/api/v1/candidates/{cid}", headers=mobile)).json()["masked"] is False
    assert (await candidates.http.get(f"/api/v1/candidates/{cid}", headers=other_mobile)).json()["masked"] is True
    assert (await candidates.http.get("/api/v1/candidates", headers=other_mobile)).json()["items"] == []
