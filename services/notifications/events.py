"""Events of the notifications service: what it reads (contacts, employers' names, invitations),
tolerantly, and what it publishes on ``notifications.v1`` (the contract of SPEC §7)."""

from datetime import date, datetime
from typing import Literal

from kit.events import EventData, EventRegistry, ReadEventData


class ContactChanged(ReadEventData):
    """``candidate.contact_changed`` / ``candidate.contact_erased`` on ``candidates.contacts.v1``."""

    candidate_id: str
    version: int
    notifications: bool = False
    full_name: str | None = None
    phone: str | None = None
    email: str | None = None
    channels: list[str] = []


class EmployerRegistered(ReadEventData):
    employer_id: str
    name: str


class Slot(ReadEventData):
    id: str
    start: str
    end: str


class InvitationIssued(ReadEventData):
    invitation_id: str
    job_fair_id: str
    candidate_id: str
    vacancy_id: str
    vacancy_title: str
    employer_id: str
    fair_date: date
    slot: Slot
    venue_ward_code: str
    venue_detail: str | None = None


class InvitationRevoked(ReadEventData):
    invitation_id: str
    reason: str | None = None


class NotificationDelivered(EventData):
    invitation_id: str
    job_fair_id: str
    candidate_id: str
    channel: Literal["sms", "email", "app"]
    delivered_at: datetime


class NotificationFailed(EventData):
    """No message reached the person: ``reason`` is ``not_permitted`` (no consent, or opted out of
    every channel), ``no_channel`` (nothing to reach them by), ``no_contact`` (no contact details
    arrived) or ``undeliverable`` (every channel tried failed)."""

    invitation_id: str
    job_fair_id: str
    candidate_id: str
    reason: Literal["not_permitted", "no_channel", "no_contact", "undeliverable"]
    channels_tried: list[str]
    failed_at: datetime


class InvitationResponded(EventData):
    invitation_id: str
    job_fair_id: str
    candidate_id: str
    answer: Literal["accept", "decline"]
    via: Literal["web", "sms"]
    responded_at: datetime


CONTACT_CHANGED, CONTACT_ERASED = "candidate.contact_changed", "candidate.contact_erased"
EMPLOYER_REGISTERED = "employer.registered"
INVITATION_ISSUED, INVITATION_REVOKED = "invitation.issued", "invitation.revoked"
DELIVERED, FAILED, RESPONDED = "notification.delivered", "notification.failed", "invitation.responded"

registry = EventRegistry()
registry.register(CONTACT_CHANGED, ContactChanged)
registry.register(CONTACT_ERASED, ContactChanged)
registry.register(EMPLOYER_REGISTERED, EmployerRegistered)
registry.register(INVITATION_ISSUED, InvitationIssued)
registry.register(INVITATION_REVOKED, InvitationRevoked)
registry.register(DELIVERED, NotificationDelivered)
registry.register(FAILED, NotificationFailed)
registry.register(RESPONDED, InvitationResponded)
