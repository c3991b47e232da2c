"""Event handlers of the notifications service: contacts, employers' names and invitations in;
each new invitation wakes the dispatcher."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kit.app import ServiceContext
from kit.consumers import EventConsumer
from kit.db import after_commit
from kit.events import Envelope, EventData
from services.notifications import events as ev
from services.notifications.service import Notifier

GROUPS: dict[str, tuple[str, ...]] = {
    "notifications.contacts": ("candidates.contacts.v1",),
    "notifications.invitations": ("jobfairs.v1", "vacancies.v1"),
}


def consumers(ctx: ServiceContext) -> list[EventConsumer]:
    notifier: Notifier = ctx.extras["notifier"]

    def wake() -> None:
        if (task := ctx.extras.get("dispatcher")) is not None:
            task.wake()

    async def contact(session: AsyncSession, envelope: Envelope, payload: EventData) -> None:
        assert isinstance(payload, ev.ContactChanged)
        await notifier.contact_changed(session, payload, erased=envelope.type == ev.CONTACT_ERASED)
        after_commit(session, wake)  # an invitation may have been waiting for these details

    async def employer(session: AsyncSession, _envelope: Envelope, payload: EventData) -> None:
        assert isinstance(payload, ev.EmployerRegistered)
        await notifier.employer_registered(session, payload)

    async def issued(session: AsyncSession, envelope: Envelope, payload: EventData) -> None:
        assert isinstance(payload, ev.InvitationIssued)
        await notifier.invitation_issued(session, envelope, payload)
        after_commit(session, wake)

    async def revoked(session: AsyncSession, _envelope: Envelope, payload: EventData) -> None:
        assert isinstance(payload, ev.InvitationRevoked)
        await notifier.invitation_revoked(session, payload)

    def consumer(name: str, handlers: dict) -> EventConsumer:  # noqa: ANN001
        return EventConsumer(name=name, topics=GROUPS[name], handlers=handlers, registry=ctx.registry, db=ctx.db,
                             inbox=ctx.inbox)

    return [
        consumer("notifications.contacts", {ev.CONTACT_CHANGED: contact, ev.CONTACT_ERASED: contact}),
        consumer("notifications.invitations", {ev.INVITATION_ISSUED: issued, ev.INVITATION_REVOKED: revoked,
                                               ev.EMPLOYER_REGISTERED: employer}),
    ]
