"""Events of the vacancies service: what it publishes on ``vacancies.v1`` and the one it consumes
(``invitation.outcome_recorded`` on ``jobfairs.v1``, read tolerantly: only the fields it uses)."""

from datetime import date, datetime
from typing import Literal

from kit.events import EventData, EventRegistry, ReadEventData


class EmployerRegistered(EventData):
    employer_id: str
    centre_id: str | None
    name: str
    tax_code: str
    industry: str | None
    fdi: bool
    ward_code: str | None
    legacy_district_code: str | None
    lat: float | None
    lon: float | None


class RequiredSkill(EventData):
    code: str | None  # None: free text the vocabulary did not recognise
    text: str
    kind: Literal["must", "nice"]


class VacancyProfile(EventData):
    """Body of ``vacancy.opened`` and ``vacancy.updated``; ``version`` orders updates."""

    vacancy_id: str
    version: int
    employer_id: str
    centre_id: str | None
    status: Literal["open", "filled", "closed"]
    title: str
    occupation: str
    required_skills: list[RequiredSkill]
    min_trade_level: int | None
    min_qualification: str
    openings: int
    hires: int
    wage_min_vnd: int | None
    wage_max_vnd: int | None
    ward_code: str
    legacy_district_code: str | None
    lat: float | None
    lon: float | None
    social_insurance: bool
    shifts: str | None
    accepts_priority_groups: bool
    deadline: date


class VacancyClosed(EventData):
    vacancy_id: str
    version: int
    status: Literal["filled", "closed"]
    reason: Literal["by_employer", "deadline", "filled"]
    hires: int


class InvitationOutcome(ReadEventData):
    """``invitation.outcome_recorded`` as this service reads it."""

    invitation_id: str
    vacancy_id: str
    outcome: Literal["attended", "hired", "no_show"]
    recorded_at: datetime | None = None


EMPLOYER_REGISTERED = "employer.registered"
OPENED, UPDATED, CLOSED = "vacancy.opened", "vacancy.updated", "vacancy.closed"
OUTCOME_RECORDED = "invitation.outcome_recorded"

registry = EventRegistry()
registry.register(EMPLOYER_REGISTERED, EmployerRegistered)
registry.register(OPENED, VacancyProfile)
registry.register(UPDATED, VacancyProfile)
registry.register(CLOSED, VacancyClosed)
registry.register(OUTCOME_RECORDED, InvitationOutcome)
