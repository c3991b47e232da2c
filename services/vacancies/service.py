"""Employers and vacancies: the domain rules, no HTTP, no SQL (a vacancy's derived columns and
event payload are made by ``records``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kit.auth import Principal
from kit.events import Envelope
from kit.ids import new_id
from kit.outbox import Outbox
from reference.levels import Qualification
from reference.localtime import local_date
from reference.skills import skill_vocabulary
from reference.text import fold, key
from services.vacancies import repository
from services.vacancies.events import (
    CLOSED,
    EMPLOYER_REGISTERED,
    OPENED,
    UPDATED,
    EmployerRegistered,
    InvitationOutcome,
    VacancyClosed,
    VacancyProfile,
    registry,
)
from services.vacancies.models import Employer, Vacancy
from services.vacancies.records import (
    check_occupation,
    locate,
    profile,
    required_skills,
    search_text,
    skill_key,
    workplace,
)
from services.vacancies.schemas import EmployerIn, VacancyIn, VacancyPatch

SOURCE = "/joblink/vacancies"
log = structlog.get_logger("vacancies")


class NotFound(LookupError):
    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"no such {kind}")
        self.kind = kind
        self.ident = ident


class NotOwner(PermissionError):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class DuplicateEmployer(Exception):
    def __init__(self, existing_id: str | None) -> None:
        super().__init__("an employer with this tax code is registered")
        self.existing_id = existing_id  # None when the caller may not learn it


class InvalidInput(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class NotOpen(Exception):
    """The vacancy is filled or closed: it cannot be changed or closed again."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the vacancy is {status}")
        self.status = status


@dataclass(frozen=True)
class VacancyFilters:
    occupation: str | None = None
    skill: str | None = None
    ward: str | None = None
    district: str | None = None
    min_trade_level: int | None = None
    max_trade_level: int | None = None
    min_wage_vnd: int | None = None
    status: str | None = None
    employer_id: str | None = None
    q: str | None = None


def owns(who: Principal, record: Employer | Vacancy) -> bool:
    """Admins, the centre that registered the record, or the client that did."""
    return (
        who.is_admin
        or (record.centre_id is not None and record.centre_id == who.centre_id)
        or record.registered_by == who.client_id
    )


class VacancyService:
    def __init__(self, outbox: Outbox, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.outbox = outbox
        self.clock = clock

    # ---- employers ------------------------------------------------------------------------
    async def register_employer(self, session: AsyncSession, who: Principal, body: EmployerIn) -> Employer:
        errors: list[dict[str, str]] = []
        area = locate(body.address, errors, "address", need_ward=False) if body.address else {}
        if errors:
            raise InvalidInput(errors)
        existing = await repository.employer_by_tax_code(session, body.tax_code)
        if existing is not None:
            raise DuplicateEmployer(existing.id)  # employers are not personal data: the id may be shown
        employer = Employer(
            id=new_id(),
            centre_id=who.centre_id,
            registered_by=who.client_id,
            name=body.name,
            name_key=key(body.name),
            tax_code=body.tax_code,
            industry=body.industry,
            fdi=body.fdi,
            address_detail=body.address.detail if body.address else None,
            contact_email=body.contact_email,
            contact_phone=body.contact_phone,
            created_at=self.clock(),
            ward_code=area.get("ward_code"),
            legacy_district_code=area.get("legacy_district_code"),
            lat=area.get("lat"),
            lon=area.get("lon"),
        )
        await repository.add_employer(session, employer)
        payload = EmployerRegistered(
            employer_id=employer.id, centre_id=employer.centre_id, name=employer.name, tax_code=employer.tax_code,
            industry=employer.industry, fdi=employer.fdi, ward_code=employer.ward_code,
            legacy_district_code=employer.legacy_district_code, lat=employer.lat, lon=employer.lon,
        )
        await self.outbox.add(session, registry.envelope(SOURCE, employer.id, payload, EMPLOYER_REGISTERED))
        return employer

    async def employer(self, session: AsyncSession, employer_id: str) -> Employer:
        employer = await repository.get_employer(session, employer_id)
        if employer is None:
            raise NotFound("employer", employer_id)
        return employer

    async def search_employers(
        self, session: AsyncSession, *, name: str | None, tax_code: str | None, ward: str | None,
        industry: str | None, fdi: bool | None, limit: int, cursor: str | None,
    ) -> tuple[list[Employer], str | None]:
        rows = await repository.search_employers(
            session, name_words=key(name) if name else None, tax_code=tax_code, ward_code=ward,
            industry=industry.upper() if industry else None, fdi=fdi, after=cursor, limit=limit + 1,
        )
        return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)

    # ---- vacancies ------------------------------------------------------------------------
    async def open_vacancy(self, session: AsyncSession, who: Principal, body: VacancyIn) -> Vacancy:
        employer = await repository.get_employer(session, body.employer_id)
        if employer is None:
            raise InvalidInput([{"field": "employer_id", "message": "no employer with this id"}])
        vacancy, skill_keys = self.new_vacancy(who, body, employer)
        await self.open_new(session, [(vacancy, skill_keys)])
        return vacancy

    async def open_new(self, session: AsyncSession, vacancies: list[tuple[Vacancy, list[str]]]) -> None:
        """Write vacancies ``new_vacancy`` made, with their skills and events, in bulk."""
        await repository.add_vacancies(session, vacancies)
        await self.outbox.add_all(session, (self._profile_event(OPENED, vacancy) for vacancy, _keys in vacancies))

    def new_vacancy(self, who: Principal, body: VacancyIn, employer: Employer) -> tuple[Vacancy, list[str]]:
        """A vacancy of ``employer`` from a validated body, checked against the reference data,
        and its skill keys; no database (an import checks a batch before writing it whole)."""
        if not owns(who, employer):
            raise NotOwner("employer")
        now = self.clock()
        errors: list[dict[str, str]] = []
        check_occupation(body.occupation, errors)
        if body.deadline <= local_date(now):
            errors.append({"field": "deadline", "message": "the deadline must be in the future"})
        area = workplace(body.workplace, employer, errors)
        if errors:
            raise InvalidInput(errors)
        skills = required_skills(body.required_skills or [])
        vacancy = Vacancy(
            id=new_id(),
            employer_id=employer.id,
            centre_id=who.centre_id,
            registered_by=who.client_id,
            status="open",
            close_reason=None,
            version=1,
            title=body.title,
            description=body.description,
            occupation=body.occupation,
            required_skills=skills,
            min_trade_level=body.min_trade_level,
            min_qualification=(body.min_qualification or Qualification.NONE).value,
            openings=body.openings,
            hires=0,
            wage_min_vnd=body.wage_min_vnd,
            wage_max_vnd=body.wage_max_vnd,
            social_insurance=bool(body.social_insurance),
            shifts=body.shifts,
            accepts_priority_groups=True if body.accepts_priority_groups is None else body.accepts_priority_groups,
            deadline=body.deadline,
            created_at=now,
            updated_at=now,
            closed_at=None,
            **area,
        )
        vacancy.search_text = search_text(vacancy, employer)
        return vacancy, [skill_key(s["code"], s["text"]) for s in skills]

    async def vacancy(self, session: AsyncSession, vacancy_id: str) -> Vacancy:
        vacancy = await repository.get_vacancy(session, vacancy_id)
        if vacancy is None:
            raise NotFound("vacancy", vacancy_id)
        return vacancy

    async def update_vacancy(self, session: AsyncSession, who: Principal, vacancy_id: str, patch: VacancyPatch) -> Vacancy:
        vacancy = await repository.get_vacancy(session, vacancy_id, for_update=True)
        if vacancy is None:
            raise NotFound("vacancy", vacancy_id)
        if not owns(who, vacancy):
            raise NotOwner("vacancy")
        if vacancy.status != "open":
            raise NotOpen(vacancy.status)
        changes = patch.model_dump(exclude_unset=True)
        now = self.clock()
        errors: list[dict[str, str]] = []
        if changes.get("occupation"):
            check_occupation(patch.occupation or "", errors)
        if "deadline" in changes and (patch.deadline is None or patch.deadline < local_date(now)):
            errors.append({"field": "deadline", "message": "the deadline must be today or later"})
        wage_min = patch.wage_min_vnd if "wage_min_vnd" in changes else vacancy.wage_min_vnd
        wage_max = patch.wage_max_vnd if "wage_max_vnd" in changes else vacancy.wage_max_vnd
        if wage_min is not None and wage_max is not None and wage_min > wage_max:
            errors.append({"field": "wage_max_vnd", "message": "is below wage_min_vnd"} if "wage_max_vnd" in changes
                          else {"field": "wage_min_vnd", "message": "is above wage_max_vnd"})
        for name in ("title", "occupation", "openings", "social_insurance", "accepts_priority_groups"):
            if name in changes and changes[name] is None:
                errors.append({"field": name, "message": "may not be null"})
        employer = await repository.get_employer(session, vacancy.employer_id)
        # null: the employer's address, as when a vacancy is opened without a workplace
        area = workplace(patch.workplace, employer, errors) if "workplace" in changes else {}
        if errors:
            raise InvalidInput(errors)
        for name in ("title", "description", "occupation", "min_trade_level", "openings", "wage_min_vnd",
                     "wage_max_vnd", "social_insurance", "shifts", "accepts_priority_groups", "deadline"):
            if name in changes:
                setattr(vacancy, name, getattr(patch, name))
        if "min_qualification" in changes:
            vacancy.min_qualification = (patch.min_qualification or Qualification.NONE).value
        for name, value in area.items():
            setattr(vacancy, name, value)
        if "required_skills" in changes:
            vacancy.required_skills = required_skills(patch.required_skills or [])
            await repository.replace_skills(
                session, vacancy.id, [skill_key(s["code"], s["text"]) for s in vacancy.required_skills]
            )
        vacancy.search_text = search_text(vacancy, employer)
        vacancy.version += 1
        vacancy.updated_at = now
        if vacancy.hires >= vacancy.openings:  # openings lowered to what is already hired
            await self._close(session, vacancy, "filled")
        else:
            await self.outbox.add(session, self._profile_event(UPDATED, vacancy))
        await session.flush()
        return vacancy

    async def close_vacancy(self, session: AsyncSession, who: Principal, vacancy_id: str) -> Vacancy:
        vacancy = await repository.get_vacancy(session, vacancy_id, for_update=True)
        if vacancy is None:
            raise NotFound("vacancy", vacancy_id)
        if not owns(who, vacancy):
            raise NotOwner("vacancy")
        if vacancy.status != "open":
            raise NotOpen(vacancy.status)
        vacancy.version += 1
        await self._close(session, vacancy, "by_employer")
        await session.flush()
        return vacancy

    async def close_expired(self, session: AsyncSession, batch: int = 500) -> int:
        """Close open vacancies whose deadline has passed (one batch); how many were closed."""
        today = local_date(self.clock())
        expired = await repository.expired_open_vacancies(session, today, batch)
        for vacancy in expired:
            vacancy.version += 1
            await self._close(session, vacancy, "deadline")
        await session.flush()
        return len(expired)

    async def record_outcome(self, session: AsyncSession, outcome: InvitationOutcome) -> None:
        """A hire at a job fair counts against the vacancy's openings, once per invitation;
        reaching the openings fills the vacancy."""
        if outcome.outcome != "hired":
            return
        vacancy = await repository.get_vacancy(session, outcome.vacancy_id, for_update=True)
        if vacancy is None:
            log.warning("outcome_for_unknown_vacancy", vacancy_id=outcome.vacancy_id)
            return
        at = outcome.recorded_at or self.clock()
        if not await repository.record_hire(session, outcome.invitation_id, vacancy.id, at):
            return
        vacancy.hires += 1
        vacancy.version += 1
        vacancy.updated_at = self.clock()
        if vacancy.status == "open" and vacancy.hires >= vacancy.openings:
            await self._close(session, vacancy, "filled")
        else:
            await self.outbox.add(session, self._profile_event(UPDATED, vacancy))
        await session.flush()

    async def search_vacancies(
        self, session: AsyncSession, filters: VacancyFilters, limit: int, cursor: str | None
    ) -> tuple[list[Vacancy], str | None]:
        skill = None
        if filters.skill:
            matches = skill_vocabulary().normalise(filters.skill)
            skill = skill_key(matches[0].code, matches[0].text) if matches else skill_key(None, filters.skill)
        rows = await repository.search_vacancies(
            session,
            occupation=filters.occupation,
            skill=skill,
            ward_code=filters.ward,
            district_code=filters.district,
            trade_level_from=filters.min_trade_level,
            trade_level_to=filters.max_trade_level,
            min_wage=filters.min_wage_vnd,
            status=filters.status,
            employer_id=filters.employer_id,
            words=" ".join(fold(filters.q).split()) if filters.q else None,
            after=cursor,
            limit=limit + 1,
        )
        return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)

    # ---- internals ------------------------------------------------------------------------
    async def _close(self, session: AsyncSession, vacancy: Vacancy, reason: str) -> None:
        now = self.clock()
        vacancy.status = "filled" if reason == "filled" else "closed"
        vacancy.close_reason = reason
        vacancy.closed_at = now
        vacancy.updated_at = now
        payload = VacancyClosed(vacancy_id=vacancy.id, version=vacancy.version, status=vacancy.status,
                                reason=reason, hires=vacancy.hires)
        await self.outbox.add(session, registry.envelope(SOURCE, vacancy.id, payload, CLOSED))

    @staticmethod
    def _profile_event(event_type: str, vacancy: Vacancy) -> Envelope:
        payload = VacancyProfile(**profile(vacancy))
        return registry.envelope(SOURCE, vacancy.id, payload, event_type)
