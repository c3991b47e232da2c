"""Request and response bodies of the notifications API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

State = Literal["pending", "delivered", "failed", "suppressed", "revoked"]


class DeliveryOut(BaseModel):
    channel: Literal["sms", "email", "app"]
    status: Literal["sending", "retrying", "sent", "failed"]
    attempts: int
    recipient: str | None = Field(description="masked")
    segments: int | None = Field(description="SMS parts")
    error: str | None
    created_at: datetime
    sent_at: datetime | None


class InvitationDeliveries(BaseModel):
    invitation_id: str
    job_fair_id: str
    candidate_id: str
    fair_date: date
    state: State
    reason: str | None = Field(description="why nothing was delivered: not_permitted, no_channel, no_contact, undeliverable")
    next_attempt_at: datetime | None
    answer: Literal["accept", "decline"] | None
    answered_via: Literal["web", "sms"] | None
    answered_at: datetime | None
    issued_at: datetime
    delivered_at: datetime | None
    deliveries: list[DeliveryOut]


class DeliveryPage(BaseModel):
    items: list[InvitationDeliveries]
    next_cursor: str | None


class OptOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    candidate_id: str = Field(min_length=1, max_length=36)
    channel: Literal["sms", "email", "app", "all"]


class OptOutOut(BaseModel):
    candidate_id: str
    channel: str
    created: bool = Field(description="false when the person had already opted out of that channel")


class InboundSms(BaseModel):
    """What the SMS gateway forwards of a reply."""

    model_config = ConfigDict(populate_by_name=True)
    sender: str = Field(alias="from", min_length=3, max_length=30)
    text: str = Field(max_length=1600)


class SmsReplyOut(BaseModel):
    result: str
    reply: str = Field(description="a text the gateway may send back to the person")
