"""SQL of job fairs, allocation runs, invitations and scoring models (the read models' SQL is in
readmodels.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import insert_records
from services.matching.models import AllocationRun, Invitation, JobFair, ScoringModel


async def fairs(session: AsyncSession, limit: int, after: str | None) -> list[JobFair]:
    stmt = select(JobFair).order_by(JobFair.id).limit(limit)
    if after:
        stmt = stmt.where(JobFair.id > after)
    return list((await session.scalars(stmt)).all())


async def next_fair(session: AsyncSession, today: date) -> JobFair | None:
    stmt = select(JobFair).where(JobFair.fair_date >= today).order_by(JobFair.fair_date, JobFair.id).limit(1)
    return (await session.scalars(stmt)).first()


async def stale_runs(session: AsyncSession, started_before: datetime) -> list[AllocationRun]:
    stmt = select(AllocationRun).where(AllocationRun.status == "running", AllocationRun.started_at < started_before)
    return list((await session.scalars(stmt)).all())


async def invitations(session: AsyncSession, fair_id: str, *, statuses: Sequence[str] | None = None,
                      not_status: str | None = None, vacancy_id: str | None = None,
                      after: str | None = None, limit: int | None = None) -> list[Invitation]:
    """A fair's invitations in id order, filtered."""
    stmt = select(Invitation).where(Invitation.fair_id == fair_id).order_by(Invitation.id)
    if statuses:
        stmt = stmt.where(Invitation.status.in_(statuses))
    if not_status:
        stmt = stmt.where(Invitation.status != not_status)
    if vacancy_id:
        stmt = stmt.where(Invitation.vacancy_id == vacancy_id)
    if after:
        stmt = stmt.where(Invitation.id > after)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await session.scalars(stmt)).all())


async def live_pairs(session: AsyncSession, fair_id: str, statuses: Sequence[str]) -> list[Row]:
    """Id, pair and slot of a fair's invitations in ``statuses`` (columns, not entities: a re-run
    reads every live invitation of the fair, 100,000 entities took seconds)."""
    stmt = (select(Invitation.id, Invitation.candidate_id, Invitation.vacancy_id, Invitation.slot_id)
            .where(Invitation.fair_id == fair_id, Invitation.status.in_(statuses)).order_by(Invitation.id))
    return list((await session.execute(stmt)).all())


# A new invitation's row for add_invitations: a tuple in this order.
INVITATION_COLUMNS = ("id", "fair_id", "run_id", "candidate_id", "candidate_centre_id", "vacancy_id", "employer_id",
                      "slot_id", "score", "factors", "priority", "status", "created_at", "updated_at")


async def add_invitations(session: AsyncSession, rows: Iterable[tuple[Any, ...]]) -> None:
    """New invitations (COPY on PostgreSQL, which takes a generator's rows as they come)."""
    await insert_records(session, Invitation.__table__, INVITATION_COLUMNS, rows)


async def revoke_invitations(session: AsyncSession, ids: Sequence[str], at: datetime) -> None:
    for start in range(0, len(ids), 5000):  # bounded statements: drivers cap the bound values
        await session.execute(update(Invitation).where(Invitation.id.in_(ids[start:start + 5000]))
                              .values(status="revoked", updated_at=at))


async def invitation_counts(session: AsyncSession, fair_id: str) -> dict[str, int]:
    rows = await session.execute(select(Invitation.status, func.count()).where(Invitation.fair_id == fair_id)
                                 .group_by(Invitation.status))
    return {status: count for status, count in rows.all()}


async def invitations_of_candidate(session: AsyncSession, candidate_id: str) -> list[Invitation]:
    return list((await session.scalars(select(Invitation).where(Invitation.candidate_id == candidate_id))).all())


async def newest_adopted_model(session: AsyncSession) -> ScoringModel | None:
    stmt = select(ScoringModel).where(ScoringModel.adopted.is_(True)).order_by(ScoringModel.created_at.desc()).limit(1)
    return (await session.scalars(stmt)).first()
