"""Tables of the matching service: read models built from events, outcomes, scoring models."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import UtcDateTime, new_metadata
from kit.inbox import inbox_table
from kit.outbox import outbox_table

JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = new_metadata()


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


class CandidateProfile(Base):
    """What matching knows of a candidate (no name, contact or ID: the events carry none).
    An erased candidate stays as a row with ``erased`` set and no profile, so a late or replayed
    older event can never bring the person back."""

    __tablename__ = "candidate_profiles"

    candidate_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    erased: Mapped[bool] = mapped_column(Boolean)
    centre_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    matching_consent: Mapped[bool] = mapped_column(Boolean)
    occupations: Mapped[list[str]] = mapped_column(JSONType)
    skills: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # [{code, text}]
    trade_level: Mapped[int | None] = mapped_column(Integer)
    qualification: Mapped[str] = mapped_column(String(32))
    experience_years: Mapped[int] = mapped_column(Integer)
    desired_wage_vnd: Mapped[int | None] = mapped_column(BigInteger)
    max_commute_km: Mapped[float | None] = mapped_column(Float)
    ward_code: Mapped[str | None] = mapped_column(String(5))
    legacy_district_code: Mapped[str | None] = mapped_column(String(3))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    priority_groups: Mapped[list[str]] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class VacancyProfile(Base):
    __tablename__ = "vacancy_profiles"

    vacancy_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    employer_id: Mapped[str] = mapped_column(String(36))
    centre_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(Text)
    occupation: Mapped[str] = mapped_column(String(4))
    required_skills: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # [{code, text, kind}]
    min_trade_level: Mapped[int | None] = mapped_column(Integer)
    min_qualification: Mapped[str] = mapped_column(String(32))
    openings: Mapped[int] = mapped_column(Integer)
    hires: Mapped[int] = mapped_column(Integer)
    wage_min_vnd: Mapped[int | None] = mapped_column(BigInteger)
    wage_max_vnd: Mapped[int | None] = mapped_column(BigInteger)
    ward_code: Mapped[str | None] = mapped_column(String(5))
    legacy_district_code: Mapped[str | None] = mapped_column(String(3))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    social_insurance: Mapped[bool] = mapped_column(Boolean)
    accepts_priority_groups: Mapped[bool] = mapped_column(Boolean)
    deadline: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Outcome(Base):
    """A job-fair outcome with the factor scores of its pair at the time: training data that
    stays anonymous (and usable) after the candidate is erased."""

    __tablename__ = "outcomes"

    invitation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    vacancy_id: Mapped[str] = mapped_column(String(36), index=True)
    candidate_id: Mapped[str | None] = mapped_column(String(36), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    factors: Mapped[dict[str, float] | None] = mapped_column(JSONType)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class ScoringModel(Base):
    """A fitted set of factor weights, with its evaluation; the newest adopted one is used."""

    __tablename__ = "scoring_models"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    adopted: Mapped[bool] = mapped_column(Boolean)
    weights: Mapped[dict[str, float]] = mapped_column(JSONType)
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSONType)


class JobFair(Base):
    """A job fair: its slots (with seats), its vacancies (each interviewing in one slot) and the
    allocation parameters."""

    __tablename__ = "job_fairs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    fair_date: Mapped[date] = mapped_column(Date, index=True)
    venue_ward_code: Mapped[str] = mapped_column(String(5))
    venue_detail: Mapped[str | None] = mapped_column(Text)
    slots: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)          # [{id, start, end, seats}]
    vacancies: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)      # [{vacancy_id, slot_id}]
    invites_per_opening: Mapped[int] = mapped_column(Integer)
    max_invites_per_candidate: Mapped[int] = mapped_column(Integer)
    priority_min_share: Mapped[float | None] = mapped_column(Float)
    priority_groups: Mapped[list[str]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AllocationRun(Base):
    """One run of the allocation for a fair: its input snapshot hash, parameters and results."""

    __tablename__ = "allocation_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    fair_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(16))  # running | completed | failed
    progress: Mapped[str] = mapped_column(Text)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType)
    input_hash: Mapped[str | None] = mapped_column(String(64))
    objective: Mapped[float | None] = mapped_column(Float)
    totals: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Invitation(Base):
    """An invitation of a candidate to a vacancy's interviews at a fair."""

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    fair_id: Mapped[str] = mapped_column(String(36), index=True)
    run_id: Mapped[str] = mapped_column(String(36))
    candidate_id: Mapped[str | None] = mapped_column(String(36), index=True)  # None once erased
    candidate_centre_id: Mapped[str | None] = mapped_column(String(64))
    vacancy_id: Mapped[str] = mapped_column(String(36))  # queried only within a fair
    employer_id: Mapped[str] = mapped_column(String(36))
    slot_id: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    factors: Mapped[dict[str, float]] = mapped_column(JSON)  # json, not jsonb: only read whole, written in bulk
    priority: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))  # likewise
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
