"""Tables of the candidates service."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Float, Integer, LargeBinary, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import UtcDateTime, new_metadata
from kit.csvstream import ImportJob
from kit.inbox import inbox_table
from kit.outbox import outbox_table

JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = new_metadata()


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)


class Candidate(Base):
    """A worker registered by a job centre (or the mobile app). Personal columns are emptied on
    erasure; the row stays as an anonymous tombstone so statistics remain right."""

    __tablename__ = "candidates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    centre_id: Mapped[str | None] = mapped_column(String(64), index=True)
    registered_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)

    # personal data
    full_name: Mapped[str | None] = mapped_column(Text)
    name_key: Mapped[str | None] = mapped_column(Text)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    national_id_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    national_id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    person_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    address_detail: Mapped[str | None] = mapped_column(Text)

    # where (kept after erasure at ward level, for statistics)
    ward_code: Mapped[str | None] = mapped_column(String(5), index=True)
    legacy_district_code: Mapped[str | None] = mapped_column(String(3), index=True)
    legacy_ward_code: Mapped[str | None] = mapped_column(String(5))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    # profile
    occupations: Mapped[list[str]] = mapped_column(JSONType)
    skills: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    trade_level: Mapped[int | None] = mapped_column(Integer)
    qualification: Mapped[str] = mapped_column(String(32))
    certificates: Mapped[list[str]] = mapped_column(JSONType)
    experience_years: Mapped[int] = mapped_column(Integer)
    desired_wage_vnd: Mapped[int | None] = mapped_column(BigInteger)
    max_commute_km: Mapped[float | None] = mapped_column(Float)
    priority_groups: Mapped[list[str]] = mapped_column(JSONType)
    consents: Mapped[dict[str, Any]] = mapped_column(JSONType)
    contact_channels: Mapped[list[str]] = mapped_column(JSONType, server_default=text("'[]'"))
    search_text: Mapped[str] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CandidateTag(Base):
    """One row per filterable value (occupation, skill, priority group): indexable filters on
    both PostgreSQL and SQLite without dialect-specific JSON operators. Keyed by what a search
    looks up; no foreign key (candidates are never deleted, and their tags are written in the
    same transaction), so that an import pays for one index entry per tag and nothing more."""

    __tablename__ = "candidate_tags"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    candidate_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class CandidateImport(ImportJob, Base):
    __tablename__ = "candidate_imports"
