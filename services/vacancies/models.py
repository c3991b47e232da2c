"""Tables of the vacancies service."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
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


class Employer(Base):
    """A business that recruits through a job centre; its tax code (mã số thuế) is unique."""

    __tablename__ = "employers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    centre_id: Mapped[str | None] = mapped_column(String(64), index=True)
    registered_by: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)
    tax_code: Mapped[str] = mapped_column(String(14), unique=True)  # 10 digits, or 10 + "-" + 3 for a branch
    industry: Mapped[str | None] = mapped_column(String(1), index=True)  # VSIC 2018 section letter
    fdi: Mapped[bool] = mapped_column(Boolean)
    ward_code: Mapped[str | None] = mapped_column(String(5), index=True)
    legacy_district_code: Mapped[str | None] = mapped_column(String(3))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address_detail: Mapped[str | None] = mapped_column(Text)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Vacancy(Base):
    """Openings for one job at one workplace. ``hires`` counts hires recorded at job fairs."""

    __tablename__ = "vacancies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employer_id: Mapped[str] = mapped_column(ForeignKey("employers.id"), index=True)
    centre_id: Mapped[str | None] = mapped_column(String(64), index=True)
    registered_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8), index=True)  # open | filled | closed
    close_reason: Mapped[str | None] = mapped_column(String(16))  # by_employer | deadline | filled
    version: Mapped[int] = mapped_column(Integer)

    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    occupation: Mapped[str] = mapped_column(String(4), index=True)
    required_skills: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # [{code, text, kind}]
    min_trade_level: Mapped[int | None] = mapped_column(Integer)
    min_qualification: Mapped[str] = mapped_column(String(32))
    openings: Mapped[int] = mapped_column(Integer)
    hires: Mapped[int] = mapped_column(Integer)
    wage_min_vnd: Mapped[int | None] = mapped_column(BigInteger)
    wage_max_vnd: Mapped[int | None] = mapped_column(BigInteger)
    ward_code: Mapped[str] = mapped_column(String(5), index=True)
    legacy_district_code: Mapped[str | None] = mapped_column(String(3), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    social_insurance: Mapped[bool] = mapped_column(Boolean)
    shifts: Mapped[str | None] = mapped_column(String(100))
    accepts_priority_groups: Mapped[bool] = mapped_column(Boolean)
    deadline: Mapped[date] = mapped_column(Date, index=True)
    search_text: Mapped[str] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class VacancySkill(Base):
    """One row per required skill (coded, or ``text:<folded words>``): an indexable filter."""

    __tablename__ = "vacancy_skills"

    vacancy_id: Mapped[str] = mapped_column(ForeignKey("vacancies.id", ondelete="CASCADE"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_vacancy_skills_skill", "skill"),)


class VacancyHire(Base):
    """A hire counted against a vacancy, once per invitation however often the outcome arrives."""

    __tablename__ = "vacancy_hires"

    invitation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    vacancy_id: Mapped[str] = mapped_column(ForeignKey("vacancies.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class VacancyImport(ImportJob, Base):
    __tablename__ = "vacancy_imports"
