"""Tables of the notifications service: contacts (from the candidates' contact topic), employers'
names, invitations to deliver, one delivery per invitation and channel, opt-outs."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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


class Contact(Base):
    """How to reach a person who agreed to be notified. Erasure empties the row and sets
    ``erased``; ``version`` (the candidate's) keeps a late, older event from reviving it."""

    __tablename__ = "contacts"

    candidate_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    notifications: Mapped[bool] = mapped_column(Boolean)
    full_name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    channels: Mapped[list[str]] = mapped_column(JSONType)
    erased: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Employer(Base):
    """An employer's name, for the messages (from ``employer.registered``)."""

    __tablename__ = "employers"

    employer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(Text)


class Invitation(Base):
    """An invitation to deliver and answer. ``state``: ``pending`` (to send, at
    ``next_attempt_at``), ``delivered``, ``failed`` (no channel reached the person),
    ``suppressed`` (no consent, opted out, or nothing to reach them by), ``revoked``."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_due", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_fair_id: Mapped[str] = mapped_column(String(36), index=True)
    candidate_id: Mapped[str] = mapped_column(String(36), index=True)
    vacancy_id: Mapped[str] = mapped_column(String(36))
    vacancy_title: Mapped[str] = mapped_column(Text)
    employer_id: Mapped[str] = mapped_column(String(36))
    fair_date: Mapped[date] = mapped_column(Date)
    slot_start: Mapped[str] = mapped_column(String(5))
    slot_end: Mapped[str] = mapped_column(String(5))
    venue_ward_code: Mapped[str] = mapped_column(String(5))
    venue_detail: Mapped[str | None] = mapped_column(Text)
    rsvp_code: Mapped[str] = mapped_column(String(12), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    answer: Mapped[str | None] = mapped_column(String(8))
    answered_via: Mapped[str | None] = mapped_column(String(8))
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())  # by matching (the event's time)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Delivery(Base):
    """One message of one invitation on one channel, however many times it is attempted: the
    idempotency key (and e-mail Message-ID) stays the same across retries and restarts.
    ``status``: ``sending`` (an attempt may be under way or was cut short), ``retrying``,
    ``sent``, ``failed``."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("invitation_id", "channel"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    invitation_id: Mapped[str] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str | None] = mapped_column(String(64))  # masked: who it went to, for support
    segments: Mapped[int | None] = mapped_column(Integer)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OptOut(Base):
    """A person asked not to be contacted on a channel (``all``: on any)."""

    __tablename__ = "opt_outs"

    candidate_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
