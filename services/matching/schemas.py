"""Response bodies of the matching API."""

from __future__ import annotations

from datetime import date as date_type
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reference.levels import PriorityGroup


class SkillRef(BaseModel):
    code: str | None
    label: str


class Factors(BaseModel):
    must_skills: float | None = Field(description="share of the coded must-have skills the candidate has")
    nice_skills: float | None
    occupation: float = Field(description="1.0 same unit group, 0.6 same minor group, 0.3 same sub-major group")
    text_similarity: float | None = Field(description="n-gram similarity for the vacancy's uncoded skills")
    trade_level: float
    qualification: float
    distance: float
    wage: float


class PriorityBoost(BaseModel):
    groups: list[str]
    boost: float


class Explanation(BaseModel):
    score: float
    relevance: float = Field(description="what the person can do against what the job needs, 0–1")
    fit: float = Field(description="trade level, qualification, distance and wage together, 0–1")
    factors: Factors
    matched_must_skills: list[SkillRef]
    missing_must_skills: list[SkillRef]
    matched_nice_skills: list[SkillRef]
    occupation_match_depth: int | None
    trade_level_gap: int | None = Field(description="candidate's level minus the required one")
    trade_level_required: int | None
    distance_km: float | None
    distance_tier: str = Field(description="same_ward | within_commute | same_district | farther | unknown")
    priority_boost: PriorityBoost
    model_version: str


class CandidateMatch(BaseModel):
    candidate_id: str
    centre_id: str | None
    masked: bool = Field(description="another centre's candidate: ward and priority groups hidden")
    ward_code: str | None
    legacy_district_code: str | None
    trade_level: int | None
    priority_groups: list[str]
    score: float
    explanation: Explanation


class VacancyMatch(BaseModel):
    vacancy_id: str
    employer_id: str
    title: str
    occupation: str
    ward_code: str | None
    score: float
    explanation: Explanation


class CandidateMatches(BaseModel):
    vacancy_id: str
    items: list[CandidateMatch]


class VacancyMatches(BaseModel):
    candidate_id: str
    items: list[VacancyMatch]


class ModelOut(BaseModel):
    version: str
    weights: dict[str, Any]
    evaluation: dict[str, Any] | None = None


# ---- job fairs -----------------------------------------------------------------------------
class SlotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,16}$", description="defaults to s1, s2, …")
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["08:00"])
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["10:00"])
    seats: int = Field(ge=1, le=100_000, description="interviews the slot can hold")

    @model_validator(mode="after")
    def _order(self) -> SlotIn:
        if self.end <= self.start:
            raise ValueError("a slot ends after it starts")
        return self


class VenueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ward_code: str = Field(pattern=r"^\d{5}$")
    detail: str | None = Field(None, max_length=300, examples=["Nhà văn hóa quận Lê Chân"])


class FairVacancyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vacancy_id: str = Field(min_length=1, max_length=36)
    slot_id: str | None = Field(None, description="the slot its interviews take; default: the least loaded")


class JobFairIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=200, examples=["Phiên giao dịch việc làm tháng 12"])
    date: date_type
    venue: VenueIn
    slots: list[SlotIn] = Field(min_length=1, max_length=20)
    vacancies: list[FairVacancyIn] = Field(min_length=1, max_length=2000)
    invites_per_opening: int = Field(3, ge=1, le=50)
    max_invites_per_candidate: int = Field(2, ge=1, le=20, description="K")
    priority_min_share: float | None = Field(None, gt=0, le=1, description="e.g. 0.3: at least 30 % of invitations")
    priority_groups: list[PriorityGroup] = Field(
        [PriorityGroup("poor_household"), PriorityGroup("near_poor_household")],
        description="the groups the minimum share counts")


class JobFairOut(BaseModel):
    id: str
    name: str
    date: date_type
    venue: VenueIn
    slots: list[dict[str, Any]]
    vacancies: list[dict[str, Any]]
    invites_per_opening: int
    max_invites_per_candidate: int
    priority_min_share: float | None
    priority_groups: list[str]
    invitations: dict[str, int] = Field(description="invitations by status")
    created_at: datetime


class JobFairPage(BaseModel):
    items: list[JobFairOut]
    next_cursor: str | None


class RunOut(BaseModel):
    id: str
    fair_id: str
    status: Literal["running", "completed", "failed"] = Field(
        description="completed: its invitations are published, all at once; failed: nothing was published")
    progress: str = Field(description="the step it is at; `done` once its report is also written, which follows "
                                      "completion (the report can be asked for meanwhile: it is then drawn once)")
    parameters: dict[str, Any]
    input_hash: str | None
    objective: float | None
    totals: dict[str, Any] | None
    message: str | None
    started_at: datetime
    finished_at: datetime | None


InvitationStatus = Literal["issued", "delivered", "accepted", "declined", "attended", "hired", "no_show", "revoked"]


class InvitationOut(BaseModel):
    id: str
    fair_id: str
    candidate_id: str | None
    vacancy_id: str
    employer_id: str
    slot_id: str
    score: float
    priority: bool
    status: InvitationStatus
    created_at: datetime
    updated_at: datetime


class InvitationPage(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None


class RsvpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: Literal["accept", "decline"]


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["attended", "hired", "no_show"]
