"""All SQL of the notifications service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import conflict_insert, stage
from services.notifications.models import Contact, Delivery, Employer, Invitation, OptOut


async def contact(session: AsyncSession, candidate_id: str) -> Contact | None:
    return await session.get(Contact, candidate_id)


async def contacts_by_phone(session: AsyncSession, phone: str) -> list[Contact]:
    rows = await session.scalars(select(Contact).where(Contact.phone == phone, Contact.erased.is_(False)))
    return list(rows)


async def employer_name(session: AsyncSession, employer_id: str) -> str | None:
    return await session.scalar(select(Employer.name).where(Employer.employer_id == employer_id))


async def save_employer(session: AsyncSession, employer_id: str, name: str) -> None:
    row = await session.get(Employer, employer_id)
    if row is None:
        session.add(Employer(employer_id=employer_id, name=name))
    else:
        row.name = name
    await session.flush()


async def invitation(session: AsyncSession, invitation_id: str, for_update: bool = False) -> Invitation | None:
    query = select(Invitation).where(Invitation.id == invitation_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


_ADD_INVITATION: dict[str, object] = {}  # per dialect: one statement object, so staged rows group


def add_invitation(session: AsyncSession, row: dict[str, object]) -> None:
    """A new invitation, written with the others of the unit of work; one issued again (same id)
    is left as it is."""
    dialect = session.bind.dialect.name
    if dialect not in _ADD_INVITATION:
        _ADD_INVITATION[dialect] = conflict_insert(session, Invitation.__table__).on_conflict_do_nothing(
            index_elements=["id"])
    stage(session, _ADD_INVITATION[dialect], row)


async def invitation_by_code(session: AsyncSession, code: str) -> Invitation | None:
    return await session.scalar(select(Invitation).where(Invitation.rsvp_code == code))


async def open_invitations_of(session: AsyncSession, candidate_ids: Sequence[str], today: date) -> list[Invitation]:
    """Invitations still to be answered or changed, the most recent first."""
    rows = await session.scalars(
        select(Invitation)
        .where(Invitation.candidate_id.in_(candidate_ids), Invitation.state.in_(("pending", "delivered")),
               Invitation.fair_date >= today)
        .order_by(Invitation.issued_at.desc())
    )
    return list(rows)


async def claim_due(session: AsyncSession, now: datetime, lease_until: datetime, limit: int) -> list[str]:
    """Pending invitations whose time has come, taken for this process until ``lease_until``
    (rows another replica holds are skipped, not waited for)."""
    ids = list(await session.scalars(
        select(Invitation.id)
        .where(Invitation.state == "pending", Invitation.next_attempt_at <= now)
        .order_by(Invitation.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))
    if ids:
        await session.execute(update(Invitation).where(Invitation.id.in_(ids)).values(next_attempt_at=lease_until))
    return ids


@dataclass
class Work:
    """What one dispatch pass needs of its claimed invitations, in five queries."""

    invitations: dict[str, Invitation]
    contacts: dict[str, Contact]
    opted_out: dict[str, set[str]]
    deliveries: dict[str, dict[str, Delivery]]  # invitation → channel → delivery
    employers: dict[str, str]


async def load_work(session: AsyncSession, ids: Sequence[str]) -> Work:
    invitations = {i.id: i for i in await invitations_by_id(session, ids)}
    people = {i.candidate_id for i in invitations.values()}
    contacts = {c.candidate_id: c for c in await session.scalars(select(Contact).where(Contact.candidate_id.in_(people)))}
    opted_out: dict[str, set[str]] = {}
    for row in await session.execute(select(OptOut.candidate_id, OptOut.channel).where(OptOut.candidate_id.in_(people))):
        opted_out.setdefault(row.candidate_id, set()).add(row.channel)
    deliveries: dict[str, dict[str, Delivery]] = {}
    for delivery in await deliveries_of(session, ids):
        deliveries.setdefault(delivery.invitation_id, {})[delivery.channel] = delivery
    employer_ids = {i.employer_id for i in invitations.values()}
    employers = dict((await session.execute(
        select(Employer.employer_id, Employer.name).where(Employer.employer_id.in_(employer_ids)))).tuples().all())
    return Work(invitations, contacts, opted_out, deliveries, employers)


async def invitations_by_id(session: AsyncSession, ids: Sequence[str], for_update: bool = False) -> list[Invitation]:
    query = select(Invitation).where(Invitation.id.in_(ids)).order_by(Invitation.id)
    if for_update:
        query = query.with_for_update()
    return list(await session.scalars(query))


async def deliveries_of(session: AsyncSession, invitation_ids: Sequence[str]) -> list[Delivery]:
    if not invitation_ids:
        return []
    rows = await session.scalars(
        select(Delivery).where(Delivery.invitation_id.in_(invitation_ids)).order_by(Delivery.created_at, Delivery.id)
    )
    return list(rows)


async def add_opt_out(session: AsyncSession, row: OptOut) -> bool:
    """False when the person had already opted out of that channel."""
    if await session.get(OptOut, (row.candidate_id, row.channel)) is not None:
        return False
    session.add(row)
    await session.flush()
    return True


async def forget(session: AsyncSession, candidate_id: str, now: datetime) -> None:
    """Erasure: no opt-out rows, no recipient in the delivery log, nothing left to send."""
    await session.execute(delete(OptOut).where(OptOut.candidate_id == candidate_id))
    ids = select(Invitation.id).where(Invitation.candidate_id == candidate_id).scalar_subquery()
    await session.execute(update(Delivery).where(Delivery.invitation_id.in_(ids)).values(recipient=None))
    await session.execute(
        update(Invitation)
        .where(Invitation.candidate_id == candidate_id, Invitation.state == "pending")
        .values(state="suppressed", reason="not_permitted", next_attempt_at=None, updated_at=now)
    )


async def search(
    session: AsyncSession, invitation_id: str | None, job_fair_id: str | None, state: str | None,
    after: str | None, limit: int,
) -> list[Invitation]:
    query = select(Invitation).order_by(Invitation.id).limit(limit)
    if invitation_id:
        query = query.where(Invitation.id == invitation_id)
    if job_fair_id:
        query = query.where(Invitation.job_fair_id == job_fair_id)
    if state:
        query = query.where(Invitation.state == state)
    if after:
        query = query.where(Invitation.id > after)
    return list(await session.scalars(query))
