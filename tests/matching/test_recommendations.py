"""Recommendations through the gateway, from read models built only from events."""

from __future__ import annotations

from sqlalchemy import select, text

from services.matching.consumers import GROUPS
from services.matching.models import CandidateProfile, Outcome, VacancyProfile
from tests.matching.conftest import Matching
from tests.matching.profiles import candidate_data, vacancy_data


async def reader(m: Matching, centre: str) -> dict[str, str]:
    return await m.bearer(["matching:read"], centre_id=centre)


async def seed(m: Matching) -> None:
    await m.publish("candidate.registered", "a-1", candidate_data("a-1", priority_groups=["poor_household"]))
    await m.publish("candidate.registered", "a-2", candidate_data("a-2", skills=[{"code": "SK0101", "text": "hàn"}]))
    await m.publish("candidate.registered", "b-1", candidate_data("b-1", centre_id="centre-b", priority_groups=["disabled"]))
    await m.publish("candidate.registered", "a-3", candidate_data("a-3", consents={"matching": False}))
    await m.publish("candidate.registered", "a-4", candidate_data("a-4", status="employed"))
    await m.publish("vacancy.opened", "v-1", vacancy_data("v-1"))
    await m.publish("vacancy.opened", "v-2", vacancy_data("v-2", occupation="7214", required_skills=[], title="Thợ gò"))

    async def loaded() -> bool:
        return len(m.matcher.index.candidates) == 3 and len(m.matcher.index.vacancies) == 2

    await m.until(loaded, "read models and index fed")


async def test_ranked_candidates_with_explanations_and_masking(matching: Matching) -> None:
    await seed(matching)
    a = await reader(matching, "centre-a")
    r = await matching.http.get("/api/v1/vacancies/v-1/matches", headers=a)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["candidate_id"] for i in items] == ["a-1", "b-1", "a-2"]  # no consent / employed: left out
    mine, other = items[0], items[1]
    assert not mine["masked"] and mine["ward_code"] == "11311" and mine["priority_groups"] == ["poor_household"]
    assert other["masked"] and other["ward_code"] is None and other["priority_groups"] == []
    assert other["explanation"]["priority_boost"]["groups"] == [] and other["legacy_district_code"] == "303"
    e = mine["explanation"]
    assert e["model_version"] == "hand-set-1" and e["factors"]["must_skills"] == 1.0
    assert e["distance_tier"] == "same_ward" and e["priority_boost"] == {"groups": ["poor_household"], "boost": 0.15}
    assert [s["code"] for s in items[2]["explanation"]["missing_must_skills"]] == ["SK0103"]
    assert 0 < items[2]["score"] < items[0]["score"] <= 1

    b = await reader(matching, "centre-b")
    seen_by_b = (await matching.http.get("/api/v1/vacancies/v-1/matches", headers=b)).json()["items"]
    assert [(i["candidate_id"], i["masked"]) for i in seen_by_b] == [("a-1", True), ("b-1", False), ("a-2", True)]

    limited = await matching.http.get("/api/v1/vacancies/v-1/matches", params={"limit": 1}, headers=a)
    assert [i["candidate_id"] for i in limited.json()["items"]] == ["a-1"]
    poor = await matching.http.get("/api/v1/vacancies/v-1/matches", params={"priority_group": "disabled"}, headers=a)
    assert [i["candidate_id"] for i in poor.json()["items"]] == ["b-1"]
    near = await matching.http.get("/api/v1/vacancies/v-1/matches", params={"max_km": 1}, headers=a)
    assert len(near.json()["items"]) == 3
    assert (await matching.http.get("/api/v1/vacancies/v-1/matches", params={"limit": 201}, headers=a)).status_code == 422
    assert (await matching.http.get("/api/v1/vacancies/v-1/matches",
                                    params={"priority_group": "rich"}, headers=a)).status_code == 422


async def test_ranked_vacancies_for_own_candidates_only(matching: Matching) -> None:
    await seed(matching)
    a = await reader(matching, "centre-a")
    r = await matching.http.get("/api/v1/candidates/a-1/matches", headers=a)
    assert r.status_code == 200, r.text
    assert [i["vacancy_id"] for i in r.json()["items"]] == ["v-1", "v-2"]
    assert r.json()["items"][0]["title"] == "Thợ hàn" and r.json()["items"][0]["explanation"]["factors"]["occupation"] == 1.0
    assert (await matching.http.get("/api/v1/candidates/b-1/matches", headers=a)).status_code == 404
    no_consent = await matching.http.get("/api/v1/candidates/a-3/matches", headers=a)
    assert no_consent.status_code == 409 and "consent" in no_consent.json()["detail"]
    assert (await matching.http.get("/api/v1/candidates/nobody/matches", headers=a)).status_code == 404


async def test_closed_vacancies_leave_and_updates_apply_in_version_order(matching: Matching) -> None:
    await seed(matching)
    a = await reader(matching, "centre-a")
    await matching.publish("vacancy.updated", "v-1", vacancy_data("v-1", version=3, min_trade_level=5))
    await matching.publish("vacancy.updated", "v-1", vacancy_data("v-1", version=2, min_trade_level=1))  # late, older

    async def level_5() -> bool:
        v = matching.matcher.index.vacancies.get("v-1")
        return v is not None and v.version == 3

    await matching.until(level_5, "v-1 at version 3")
    r = await matching.http.get("/api/v1/vacancies/v-1/matches", headers=a)
    assert r.json()["items"][0]["explanation"]["trade_level_required"] == 5

    await matching.publish("vacancy.closed", "v-1", {"vacancy_id": "v-1", "version": 4, "status": "filled",
                                                      "reason": "filled", "hires": 3})

    async def closed() -> bool:
        return (await matching.http.get("/api/v1/vacancies/v-1/matches", headers=a)).status_code == 409

    await matching.until(closed, "v-1 out of the pool")
    assert "filled" in (await matching.http.get("/api/v1/vacancies/v-1/matches", headers=a)).json()["detail"]
    assert [i["vacancy_id"] for i in (await matching.http.get("/api/v1/candidates/a-1/matches", headers=a)).json()["items"]] == ["v-2"]
    assert (await matching.http.get("/api/v1/vacancies/v-9/matches", headers=a)).status_code == 404


async def test_erasure_and_consent_withdrawal_remove_the_person(matching: Matching) -> None:
    await seed(matching)
    a = await reader(matching, "centre-a")
    await matching.publish("invitation.outcome_recorded", "inv-1", {
        "invitation_id": "inv-1", "vacancy_id": "v-1", "candidate_id": "a-1", "job_fair_id": "f-1", "outcome": "hired"})
    await matching.publish("candidate.erased", "a-1", {"candidate_id": "a-1", "version": 2})
    await matching.publish("candidate.updated", "a-2", candidate_data("a-2", version=2, consents={"matching": False}))

    async def gone() -> bool:
        ids = [i["candidate_id"] for i in (await matching.http.get("/api/v1/vacancies/v-1/matches", headers=a)).json()["items"]]
        return ids == ["b-1"]

    await matching.until(gone, "a-1 erased and a-2 withdrawn")
    assert (await matching.http.get("/api/v1/candidates/a-1/matches", headers=a)).status_code == 404
    async with matching.db.reading() as session:
        row = await session.get(CandidateProfile, "a-1")
        assert row.erased and row.skills == [] and row.ward_code is None and row.lat is None and row.priority_groups == []
        outcome = await session.get(Outcome, "inv-1")
        assert outcome.candidate_id is None and outcome.factors["must"] == 1.0  # training data, anonymous
        raw = (await session.execute(text("SELECT * FROM candidate_profiles WHERE candidate_id = 'a-1'"))).one()
        assert "poor_household" not in str(raw) and "11311" not in str(raw)
    # an older event replayed after the erasure does not bring the person back
    await matching.publish("candidate.updated", "a-1", candidate_data("a-1", version=1))
    await matching.publish("candidate.registered", "z-1", candidate_data("z-1"))

    async def z_in() -> bool:
        return matching.matcher.index.candidates.get("z-1") is not None

    await matching.until(z_in, "a later event applied")
    assert matching.matcher.index.candidates.get("a-1") is None


async def snapshot(m: Matching) -> dict[str, list]:
    async with m.db.reading() as session:
        out = {}
        for model, key in ((CandidateProfile, "candidate_id"), (VacancyProfile, "vacancy_id"), (Outcome, "invitation_id")):
            rows = (await session.scalars(select(model).order_by(getattr(model, key)))).all()
            out[model.__tablename__] = [{c: getattr(r, c) for c in model.__table__.columns.keys() if c != "updated_at"}
                                        for r in rows]
        return out


async def test_rebuild_from_the_topics_reaches_the_same_state(matching: Matching) -> None:
    await seed(matching)
    await matching.publish("candidate.updated", "a-2", candidate_data("a-2", version=2, trade_level=6))
    await matching.publish("candidate.erased", "b-1", {"candidate_id": "b-1", "version": 2})
    await matching.publish("vacancy.closed", "v-2", {"vacancy_id": "v-2", "version": 2, "status": "closed",
                                                      "reason": "deadline", "hires": 0})

    async def profiles() -> bool:
        async with matching.db.reading() as session:
            versions = dict((await session.execute(select(CandidateProfile.candidate_id, CandidateProfile.version))).all())
            return (await session.get(VacancyProfile, "v-2")).status == "closed" and versions == {
                "a-1": 1, "a-2": 2, "a-3": 1, "a-4": 1, "b-1": 2}

    await matching.until(profiles, "profile events applied")
    # outcomes without factor scores take them from the read models when they arrive (a rebuild
    # replays outcomes after the profiles, so it sees the same profiles)
    await matching.publish("invitation.outcome_recorded", "inv-7", {
        "invitation_id": "inv-7", "vacancy_id": "v-1", "candidate_id": "a-2", "outcome": "attended"})
    await matching.publish("invitation.outcome_recorded", "inv-8", {
        "invitation_id": "inv-8", "vacancy_id": "v-1", "candidate_id": "a-1", "outcome": "hired",
        "factors": {"must": 0.5, "distance": 0.9}})

    async def outcomes() -> bool:
        async with matching.db.reading() as session:
            return all([await session.get(Outcome, "inv-7"), await session.get(Outcome, "inv-8")])

    await matching.until(outcomes, "outcomes applied")
    before = await snapshot(matching)
    ranked_before = (await matching.http.get("/api/v1/vacancies/v-1/matches", headers=await reader(matching, "centre-a"))).json()

    applied = await matching.matcher.rebuild(matching.db, matching.bus, matching.ctx.registry, matching.ctx.inbox.table, GROUPS)
    assert applied == 12
    after = await snapshot(matching)
    for table in before:
        for x, y in zip(before[table], after[table], strict=True):
            assert x == y, {k: (x[k], y[k]) for k in x if x[k] != y[k]}
    ranked_after = (await matching.http.get("/api/v1/vacancies/v-1/matches", headers=await reader(matching, "centre-a"))).json()
    assert ranked_after == ranked_before


async def test_a_replica_without_consumers_follows_the_read_models(matching: Matching) -> None:
    """An API replica beside a worker: its index is loaded, then synchronised from changed rows."""
    from datetime import UTC, datetime, timedelta

    from services.matching.service import MatchingService

    await seed(matching)
    replica = MatchingService(matching.matcher.weights, matching.matcher.index.boosts)
    await replica.load(matching.db)
    assert len(replica.index.candidates) == 3 and len(replica.index.vacancies) == 2
    since = datetime.now(UTC) - timedelta(seconds=5)
    await matching.publish("candidate.erased", "a-1", {"candidate_id": "a-1", "version": 2})
    await matching.publish("candidate.registered", "a-9", candidate_data("a-9"))
    await matching.publish("vacancy.closed", "v-2", {"vacancy_id": "v-2", "version": 2, "status": "closed",
                                                      "reason": "deadline", "hires": 0})

    async def applied() -> bool:
        index = matching.matcher.index
        return (index.candidates.get("a-9") is not None and index.candidates.get("a-1") is None
                and index.vacancies.get("v-2") is None)

    await matching.until(applied, "events applied by the consuming instance")
    await replica.sync(matching.db, since)
    assert sorted(replica.index.candidates.rows) == sorted(matching.matcher.index.candidates.rows) == ["a-2", "a-9", "b-1"]
    assert sorted(replica.index.vacancies.rows) == ["v-1"]
