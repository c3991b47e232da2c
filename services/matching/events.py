"""Events of the matching service: those it reads (candidates, vacancies, RSVPs, deliveries) —
only the fields it uses, so publishers may add fields freely — and those it publishes on
``jobfairs.v1`` (fairs scheduled, invitations issued, revoked, outcomes recorded)."""

from datetime import date, datetime
from typing import Literal

from kit.events import EventData, EventRegistry, ReadEventData


class SkillRef(ReadEventData):
    code: str | None
    text: str


class CandidateProfile(ReadEventData):
    """``candidate.registered`` / ``candidate.updated``."""

    candidate_id: str
    version: int
    centre_id: str | None = None
    status: str
    occupations: list[str] = []
    skills: list[SkillRef] = []
    trade_level: int | None = None
    qualification: str = "none"
    experience_years: int = 0
    desired_wage_vnd: int | None = None
    max_commute_km: float | None = None
    ward_code: str | None = None
    legacy_district_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    priority_groups: list[str] = []
    consents: dict[str, bool] = {}


class CandidateErased(ReadEventData):
    candidate_id: str
    version: int


class RequiredSkill(ReadEventData):
    code: str | None
    text: str
    kind: Literal["must", "nice"]


class VacancyProfile(ReadEventData):
    """``vacancy.opened`` / ``vacancy.updated``."""

    vacancy_id: str
    version: int
    employer_id: str
    centre_id: str | None = None
    status: str
    title: str
    occupation: str
    required_skills: list[RequiredSkill] = []
    min_trade_level: int | None = None
    min_qualification: str = "none"
    openings: int = 1
    hires: int = 0
    wage_min_vnd: int | None = None
    wage_max_vnd: int | None = None
    ward_code: str | None = None
    legacy_district_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    social_insurance: bool = False
    accepts_priority_groups: bool = True
    deadline: date | None = None


class VacancyClosed(ReadEventData):
    vacancy_id: str
    version: int
    status: str


class InvitationOutcome(ReadEventData):
    """``invitation.outcome_recorded`` (published here, and read back as training data)."""

    invitation_id: str
    job_fair_id: str | None = None
    vacancy_id: str
    employer_id: str | None = None
    candidate_id: str
    outcome: Literal["attended", "hired", "no_show"]
    recorded_at: datetime | None = None
    # the pair's factor scores when it was invited (job-fair invitations carry them); without
    # them, matching takes them from its read models when the outcome arrives
    factors: dict[str, float] | None = None


class Slot(EventData):
    id: str
    start: str
    end: str
    seats: int


class JobFairScheduled(EventData):
    job_fair_id: str
    name: str
    date: date
    venue_ward_code: str
    venue_detail: str | None
    slots: list[Slot]
    vacancy_ids: list[str]


class InvitationIssued(EventData):
    """An invitation to deliver: who, to which interviews, when and where (no personal data:
    notifications looks the contact up itself)."""

    invitation_id: str
    job_fair_id: str
    candidate_id: str
    vacancy_id: str
    vacancy_title: str
    employer_id: str
    fair_date: date
    slot: Slot
    venue_ward_code: str
    venue_detail: str | None


class InvitationRevoked(EventData):
    invitation_id: str
    job_fair_id: str
    candidate_id: str
    reason: str


class InvitationResponded(ReadEventData):
    """``invitation.responded`` from notifications (RSVP page, SMS reply)."""

    invitation_id: str
    answer: Literal["accept", "decline"]


class NotificationDelivered(ReadEventData):
    invitation_id: str | None = None


CANDIDATE_REGISTERED, CANDIDATE_UPDATED, CANDIDATE_ERASED = (
    "candidate.registered", "candidate.updated", "candidate.erased")
VACANCY_OPENED, VACANCY_UPDATED, VACANCY_CLOSED = "vacancy.opened", "vacancy.updated", "vacancy.closed"
OUTCOME_RECORDED = "invitation.outcome_recorded"
JOBFAIR_SCHEDULED, INVITATION_ISSUED, INVITATION_REVOKED = "jobfair.scheduled", "invitation.issued", "invitation.revoked"
INVITATION_RESPONDED, NOTIFICATION_DELIVERED = "invitation.responded", "notification.delivered"

registry = EventRegistry()
registry.register(CANDIDATE_REGISTERED, CandidateProfile)
registry.register(CANDIDATE_UPDATED, CandidateProfile)
registry.register(CANDIDATE_ERASED, CandidateErased)
registry.register(VACANCY_OPENED, VacancyProfile)
registry.register(VACANCY_UPDATED, VacancyProfile)
registry.register(VACANCY_CLOSED, VacancyClosed)
registry.register(OUTCOME_RECORDED, InvitationOutcome)
registry.register(JOBFAIR_SCHEDULED, JobFairScheduled)
registry.register(INVITATION_ISSUED, InvitationIssued)
registry.register(INVITATION_REVOKED, InvitationRevoked)
registry.register(INVITATION_RESPONDED, InvitationResponded)
registry.register(NOTIFICATION_DELIVERED, NotificationDelivered)
