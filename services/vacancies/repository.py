"""All SQL of the vacancies service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import conflict_insert
from services.vacancies.models import Employer, Vacancy, VacancyHire, VacancyImport, VacancySkill


# ---- employers ---------------------------------------------------------------------------
async def add_employer(session: AsyncSession, employer: Employer) -> None:
    session.add(employer)
    await session.flush()


async def get_employer(session: AsyncSession, employer_id: str) -> Employer | None:
    return await session.get(Employer, employer_id)


async def employer_by_tax_code(session: AsyncSession, tax_code: str) -> Employer | None:
    return (await session.scalars(select(Employer).where(Employer.tax_code == tax_code))).first()


async def employers_by_tax_codes(session: AsyncSession, tax_codes: Sequence[str]) -> dict[str, Employer]:
    if not tax_codes:
        return {}
    rows = await session.scalars(select(Employer).where(Employer.tax_code.in_(set(tax_codes))))
    return {e.tax_code: e for e in rows}


async def employers_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Employer]:
    if not ids:
        return {}
    return {e.id: e for e in await session.scalars(select(Employer).where(Employer.id.in_(set(ids))))}


async def search_employers(
    session: AsyncSession,
    *,
    name_words: str | None,
    tax_code: str | None,
    ward_code: str | None,
    industry: str | None,
    fdi: bool | None,
    after: str | None,
    limit: int,
) -> list[Employer]:
    stmt = select(Employer)
    if name_words:
        stmt = stmt.where(Employer.name_key.like(f"%{_escape(name_words)}%", escape="\\"))
    if tax_code:
        stmt = stmt.where(or_(Employer.tax_code == tax_code, Employer.tax_code.like(f"{_escape(tax_code)}-%", escape="\\")))
    if ward_code:
        stmt = stmt.where(Employer.ward_code == ward_code)
    if industry:
        stmt = stmt.where(Employer.industry == industry)
    if fdi is not None:
        stmt = stmt.where(Employer.fdi.is_(fdi))
    if after:
        stmt = stmt.where(Employer.id > after)
    return list((await session.scalars(stmt.order_by(Employer.id).limit(limit))).all())


# ---- vacancies ---------------------------------------------------------------------------
async def add_vacancies(session: AsyncSession, vacancies: Sequence[tuple[Vacancy, Sequence[str]]]) -> None:
    """New vacancies and their skill keys, in one flush (the rows go in a few statements)."""
    session.add_all(vacancy for vacancy, _keys in vacancies)
    session.add_all(VacancySkill(vacancy_id=vacancy.id, skill=k) for vacancy, keys in vacancies for k in dict.fromkeys(keys))
    await session.flush()


async def replace_skills(session: AsyncSession, vacancy_id: str, skill_keys: Sequence[str]) -> None:
    await session.execute(delete(VacancySkill).where(VacancySkill.vacancy_id == vacancy_id))
    session.add_all(VacancySkill(vacancy_id=vacancy_id, skill=k) for k in dict.fromkeys(skill_keys))
    await session.flush()


async def get_vacancy(session: AsyncSession, vacancy_id: str, for_update: bool = False) -> Vacancy | None:
    stmt = select(Vacancy).where(Vacancy.id == vacancy_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).first()


async def search_vacancies(
    session: AsyncSession,
    *,
    occupation: str | None,
    skill: str | None,
    ward_code: str | None,
    district_code: str | None,
    trade_level_from: int | None,
    trade_level_to: int | None,
    min_wage: int | None,
    status: str | None,
    employer_id: str | None,
    words: str | None,
    after: str | None,
    limit: int,
) -> list[Vacancy]:
    """Vacancies matching every filter, in id order (ids grow with time), after a cursor."""
    stmt = select(Vacancy)
    if occupation:
        # 2, 3 or 4 digits: the whole sub-major, minor or unit group
        stmt = stmt.where(Vacancy.occupation.like(f"{occupation}%"))
    if skill:
        stmt = stmt.where(exists().where(VacancySkill.vacancy_id == Vacancy.id, VacancySkill.skill == skill))
    if ward_code:
        stmt = stmt.where(Vacancy.ward_code == ward_code)
    if district_code:
        stmt = stmt.where(Vacancy.legacy_district_code == district_code)
    if trade_level_from is not None:
        stmt = stmt.where(func.coalesce(Vacancy.min_trade_level, 0) >= trade_level_from)
    if trade_level_to is not None:
        stmt = stmt.where(func.coalesce(Vacancy.min_trade_level, 0) <= trade_level_to)
    if min_wage is not None:
        stmt = stmt.where(func.coalesce(Vacancy.wage_max_vnd, Vacancy.wage_min_vnd) >= min_wage)
    if status:
        stmt = stmt.where(Vacancy.status == status)
    if employer_id:
        stmt = stmt.where(Vacancy.employer_id == employer_id)
    if words:
        stmt = stmt.where(Vacancy.search_text.like(f"% {_escape(words)}%", escape="\\"))
    if after:
        stmt = stmt.where(Vacancy.id > after)
    return list((await session.scalars(stmt.order_by(Vacancy.id).limit(limit))).all())


async def expired_open_vacancies(session: AsyncSession, today: date, limit: int) -> list[Vacancy]:
    """Open vacancies whose deadline has passed, locked for this transaction; rows another
    replica is closing right now are skipped (PostgreSQL), so two closers never collide."""
    stmt = (
        select(Vacancy)
        .where(Vacancy.status == "open", Vacancy.deadline < today)
        .order_by(Vacancy.deadline, Vacancy.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(stmt)).all())


async def record_hire(session: AsyncSession, invitation_id: str, vacancy_id: str, at: datetime) -> bool:
    """Note a hire for an invitation; False when that invitation's hire was noted before."""
    stmt = (
        conflict_insert(session, VacancyHire)
        .values(invitation_id=invitation_id, vacancy_id=vacancy_id, recorded_at=at)
        .on_conflict_do_nothing(index_elements=["invitation_id"])
        .returning(VacancyHire.invitation_id)
    )
    return (await session.execute(stmt)).first() is not None


# ---- imports -----------------------------------------------------------------------------
async def save_import(session: AsyncSession, job: VacancyImport) -> None:
    """Insert or update an import job's row (its counters move with every batch)."""
    await session.merge(job)


async def get_import(session: AsyncSession, import_id: str) -> VacancyImport | None:
    return await session.get(VacancyImport, import_id)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
