"""Read models of candidates and vacancies, built only from their events.

Every write is a versioned upsert (an event older than the row is ignored), so events delivered
twice, late or replayed from the beginning all converge on the same state. An erased candidate
keeps a tombstone row without profile; outcomes keep their factor scores but lose the person.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import conflict_insert
from services.matching import events as ev
from services.matching.models import CandidateProfile, Outcome, VacancyProfile


async def _upsert(session: AsyncSession, model: type[Any], key: str, values: dict[str, Any]) -> bool:
    """Insert, or overwrite a row whose version is older; True when the row changed."""
    stmt = conflict_insert(session, model).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_={k: stmt.excluded[k] for k in values if k != key},
        where=model.version < stmt.excluded.version,
    ).returning(getattr(model, key))
    return (await session.execute(stmt)).first() is not None


def candidate_row(p: ev.CandidateProfile, now: datetime) -> dict[str, Any]:
    return {
        "candidate_id": p.candidate_id,
        "version": p.version,
        "erased": False,
        "centre_id": p.centre_id,
        "status": p.status,
        "matching_consent": bool(p.consents.get("matching", False)),
        "occupations": list(p.occupations),
        "skills": [{"code": s.code, "text": s.text} for s in p.skills],
        "trade_level": p.trade_level,
        "qualification": p.qualification,
        "experience_years": p.experience_years,
        "desired_wage_vnd": p.desired_wage_vnd,
        "max_commute_km": p.max_commute_km,
        "ward_code": p.ward_code,
        "legacy_district_code": p.legacy_district_code,
        "lat": p.lat,
        "lon": p.lon,
        "priority_groups": list(p.priority_groups),
        "updated_at": now,
    }


def erased_row(candidate_id: str, version: int, now: datetime) -> dict[str, Any]:
    return {
        "candidate_id": candidate_id, "version": version, "erased": True, "centre_id": None, "status": "erased",
        "matching_consent": False, "occupations": [], "skills": [], "trade_level": None, "qualification": "none",
        "experience_years": 0, "desired_wage_vnd": None, "max_commute_km": None, "ward_code": None,
        "legacy_district_code": None, "lat": None, "lon": None, "priority_groups": [], "updated_at": now,
    }


def vacancy_row(p: ev.VacancyProfile, now: datetime) -> dict[str, Any]:
    return {
        "vacancy_id": p.vacancy_id,
        "version": p.version,
        "employer_id": p.employer_id,
        "centre_id": p.centre_id,
        "status": p.status,
        "title": p.title,
        "occupation": p.occupation,
        "required_skills": [{"code": s.code, "text": s.text, "kind": s.kind} for s in p.required_skills],
        "min_trade_level": p.min_trade_level,
        "min_qualification": p.min_qualification,
        "openings": p.openings,
        "hires": p.hires,
        "wage_min_vnd": p.wage_min_vnd,
        "wage_max_vnd": p.wage_max_vnd,
        "ward_code": p.ward_code,
        "legacy_district_code": p.legacy_district_code,
        "lat": p.lat,
        "lon": p.lon,
        "social_insurance": p.social_insurance,
        "accepts_priority_groups": p.accepts_priority_groups,
        "deadline": p.deadline,
        "updated_at": now,
    }


def matchable(row: CandidateProfile | dict[str, Any]) -> bool:
    """Hard filter of SPEC §6: seeking work, with consent to matching, not erased."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return not get("erased") and get("status") == "seeking" and bool(get("matching_consent"))


async def apply_candidate(session: AsyncSession, p: ev.CandidateProfile) -> dict[str, Any] | None:
    """The row written, or None when the event was older than what is held."""
    row = candidate_row(p, datetime.now(UTC))
    return row if await _upsert(session, CandidateProfile, "candidate_id", row) else None


async def erase_candidate(session: AsyncSession, p: ev.CandidateErased) -> bool:
    changed = await _upsert(session, CandidateProfile, "candidate_id", erased_row(p.candidate_id, p.version, datetime.now(UTC)))
    await session.execute(update(Outcome).where(Outcome.candidate_id == p.candidate_id).values(candidate_id=None))
    return changed


async def apply_vacancy(session: AsyncSession, p: ev.VacancyProfile) -> dict[str, Any] | None:
    row = vacancy_row(p, datetime.now(UTC))
    return row if await _upsert(session, VacancyProfile, "vacancy_id", row) else None


async def close_vacancy(session: AsyncSession, p: ev.VacancyClosed) -> bool:
    result = await session.execute(
        update(VacancyProfile)
        .where(VacancyProfile.vacancy_id == p.vacancy_id, VacancyProfile.version < p.version)
        .values(status=p.status, version=p.version, updated_at=datetime.now(UTC))
        .returning(VacancyProfile.vacancy_id)
    )
    return result.first() is not None


async def record_outcome(session: AsyncSession, p: ev.InvitationOutcome, factors: dict[str, float] | None,
                         published_at: datetime) -> None:
    """One row per invitation: a later outcome (attended, then hired) replaces the earlier."""
    values = {"invitation_id": p.invitation_id, "vacancy_id": p.vacancy_id, "candidate_id": p.candidate_id,
              "outcome": p.outcome, "factors": factors, "recorded_at": p.recorded_at or published_at}
    stmt = conflict_insert(session, Outcome).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=["invitation_id"],
                                      set_={k: stmt.excluded[k] for k in ("outcome", "recorded_at")})
    await session.execute(stmt)


async def candidate(session: AsyncSession, candidate_id: str) -> CandidateProfile | None:
    return await session.get(CandidateProfile, candidate_id)


async def vacancy(session: AsyncSession, vacancy_id: str) -> VacancyProfile | None:
    return await session.get(VacancyProfile, vacancy_id)


async def matchable_candidates(session: AsyncSession, batch: int = 5000):  # noqa: ANN201 - async iterator of rows
    """Every candidate the index should hold, streamed in batches."""
    stmt = (select(CandidateProfile)
            .where(CandidateProfile.erased.is_(False), CandidateProfile.status == "seeking",
                   CandidateProfile.matching_consent.is_(True))
            .execution_options(yield_per=batch))
    async for row in await session.stream_scalars(stmt):
        yield row


async def open_vacancies(session: AsyncSession) -> list[VacancyProfile]:
    return list((await session.scalars(select(VacancyProfile).where(VacancyProfile.status == "open"))).all())


async def outcomes(session: AsyncSession) -> list[Outcome]:
    stmt = select(Outcome).where(Outcome.factors.is_not(None)).order_by(Outcome.recorded_at, Outcome.invitation_id)
    return list((await session.scalars(stmt)).all())


async def clear(session: AsyncSession, inbox: Any, consumers: list[str]) -> None:
    """Empty the read models and forget which events were applied (before a rebuild)."""
    for model in (CandidateProfile, VacancyProfile, Outcome):
        await session.execute(delete(model))
    await session.execute(delete(inbox).where(inbox.c.consumer.in_(consumers)))


async def changed_since(session: AsyncSession, since: datetime) -> tuple[list[CandidateProfile], list[VacancyProfile]]:
    """Rows written at or after ``since`` (for an index fed by another process's consumers)."""
    candidates = (await session.scalars(select(CandidateProfile).where(CandidateProfile.updated_at >= since))).all()
    vacancies = (await session.scalars(select(VacancyProfile).where(VacancyProfile.updated_at >= since))).all()
    return list(candidates), list(vacancies)
