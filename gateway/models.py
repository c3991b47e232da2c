"""Tables of the gateway: API clients and shared rate-limit buckets."""

from datetime import datetime

from sqlalchemy import Float, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import UtcDateTime, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Client(Base):
    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text)  # space-separated
    centre_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | revoked
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class RateBucket(Base):
    """Token bucket per client, shared by every gateway replica (PostgreSQL)."""

    __tablename__ = "rate_buckets"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)  # epoch seconds
