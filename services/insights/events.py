"""Events the insights service reads — every topic but the contacts one — tolerantly: only the
fields statistics need. It publishes none."""

from datetime import datetime
from typing import Literal

from kit.events import EventRegistry, ReadEventData


class CandidateProfile(ReadEventData):
    candidate_id: str
    version: int
    status: str
    occupations: list[str] = []
    trade_level: int | None = None
    qualification: str = "none"
    ward_code: str | None = None
    legacy_district_code: str | None = None
    priority_groups: list[str] = []


class CandidateErased(ReadEventData):
    candidate_id: str
    version: int


class VacancyProfile(ReadEventData):
    vacancy_id: str
    version: int
    status: str
    occupation: str
    min_trade_level: int | None = None
    min_qualification: str = "none"
    openings: int = 1
    hires: int = 0
    ward_code: str | None = None
    legacy_district_code: str | None = None
    social_insurance: bool = False


class VacancyClosed(ReadEventData):
    vacancy_id: str
    version: int


class InvitationIssued(ReadEventData):
    invitation_id: str
    job_fair_id: str
    candidate_id: str
    vacancy_id: str


class InvitationRevoked(ReadEventData):
    invitation_id: str
    job_fair_id: str | None = None
    candidate_id: str | None = None


class InvitationResponded(ReadEventData):
    invitation_id: str
    job_fair_id: str | None = None
    candidate_id: str | None = None
    answer: Literal["accept", "decline"]


class OutcomeRecorded(ReadEventData):
    invitation_id: str
    job_fair_id: str | None = None
    candidate_id: str | None = None
    vacancy_id: str | None = None
    outcome: Literal["attended", "hired", "no_show"]
    recorded_at: datetime | None = None


CANDIDATE_REGISTERED, CANDIDATE_UPDATED, CANDIDATE_ERASED = (
    "candidate.registered", "candidate.updated", "candidate.erased")
VACANCY_OPENED, VACANCY_UPDATED, VACANCY_CLOSED = "vacancy.opened", "vacancy.updated", "vacancy.closed"
INVITATION_ISSUED, INVITATION_REVOKED = "invitation.issued", "invitation.revoked"
INVITATION_RESPONDED, OUTCOME_RECORDED = "invitation.responded", "invitation.outcome_recorded"

registry = EventRegistry()
for _type, _model in ((CANDIDATE_REGISTERED, CandidateProfile), (CANDIDATE_UPDATED, CandidateProfile),
                      (CANDIDATE_ERASED, CandidateErased), (VACANCY_OPENED, VacancyProfile),
                      (VACANCY_UPDATED, VacancyProfile), (VACANCY_CLOSED, VacancyClosed),
                      (INVITATION_ISSUED, InvitationIssued), (INVITATION_REVOKED, InvitationRevoked),
                      (INVITATION_RESPONDED, InvitationResponded), (OUTCOME_RECORDED, OutcomeRecorded)):
    registry.register(_type, _model)
