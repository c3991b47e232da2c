"""Tables of the insights service: facts with validity intervals, so that any past date can be
asked about. A fact is valid from ``valid_from`` (the event's time) until ``valid_to`` (the time
of the event that replaced it; NULL while it holds). No names, contacts or IDs of persons beyond
the platform's opaque candidate ids."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String
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


class Candidate(Base):
    """The latest of each candidate: what placements and the funnel are broken down by."""

    __tablename__ = "candidates"

    candidate_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16))
    ward_code: Mapped[str | None] = mapped_column(String(5))
    district_code: Mapped[str | None] = mapped_column(String(3))
    province_code: Mapped[str | None] = mapped_column(String(2))
    qualification: Mapped[str] = mapped_column(String(32))
    priority_groups: Mapped[list[str]] = mapped_column(JSONType)
    erased: Mapped[bool] = mapped_column(Boolean)


class SupplyFact(Base):
    """A seeking candidate in one occupation (``""``: none given) over an interval."""

    __tablename__ = "supply_facts"
    __table_args__ = (Index("ix_supply_facts_valid", "valid_from", "valid_to"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    candidate_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    occupation: Mapped[str] = mapped_column(String(4))
    ward_code: Mapped[str | None] = mapped_column(String(5))
    district_code: Mapped[str | None] = mapped_column(String(3))
    province_code: Mapped[str | None] = mapped_column(String(2))
    trade_level: Mapped[int | None] = mapped_column(Integer)
    qualification: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DemandFact(Base):
    """An open vacancy and its unfilled openings over an interval."""

    __tablename__ = "demand_facts"
    __table_args__ = (Index("ix_demand_facts_valid", "valid_from", "valid_to"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    vacancy_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    occupation: Mapped[str] = mapped_column(String(4))
    ward_code: Mapped[str | None] = mapped_column(String(5))
    district_code: Mapped[str | None] = mapped_column(String(3))
    province_code: Mapped[str | None] = mapped_column(String(2))
    trade_level: Mapped[int | None] = mapped_column(Integer)  # the minimum required
    qualification: Mapped[str] = mapped_column(String(32))  # the minimum required
    openings: Mapped[int] = mapped_column(Integer)  # still unfilled
    social_insurance: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Versions(Base):
    """The last version applied per candidate or vacancy (``kind``), so replays and late events
    change nothing."""

    __tablename__ = "versions"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(Boolean)


class Invitation(Base):
    """One job-fair invitation through the funnel: invited → accepted → attended → hired. Answers
    and outcomes travel on other topics than the invitation and may arrive first: the row is made
    by whichever comes first, and counts once ``invited_at`` is known."""

    __tablename__ = "invitations"

    invitation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_fair_id: Mapped[str | None] = mapped_column(String(36), index=True)
    candidate_id: Mapped[str | None] = mapped_column(String(36), index=True)
    vacancy_id: Mapped[str | None] = mapped_column(String(36))
    invited_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean)
    answer: Mapped[str | None] = mapped_column(String(8))
    attended: Mapped[bool] = mapped_column(Boolean)
    hired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
