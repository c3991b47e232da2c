"""All SQL of the insights service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from kit.db import stage
from services.insights.models import Candidate, DemandFact, Invitation, SupplyFact, Versions

Fact = type[SupplyFact] | type[DemandFact]
# One statement object per kind of row: rows staged in a unit of work go in one executemany.
_INSERTS = {model: insert(model.__table__) for model in (Versions, SupplyFact, DemandFact, Candidate)}


def stage_new(session: AsyncSession, model: type, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of an entity first seen in this unit of work, written with the others at its end."""
    for row in rows:
        stage(session, _INSERTS[model], row)


async def version(session: AsyncSession, kind: str, entity_id: str) -> Versions | None:
    return await session.get(Versions, (kind, entity_id))


def _entity(model: Fact) -> Any:
    return SupplyFact.candidate_id if model is SupplyFact else DemandFact.vacancy_id


async def close_facts(session: AsyncSession, model: Fact, entity_id: str, at: datetime) -> None:
    """End the facts that held until ``at``."""
    await session.execute(update(model).where(_entity(model) == entity_id, model.valid_to.is_(None)).values(valid_to=at))


async def add_facts(session: AsyncSession, model: Fact, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(model), list(rows))


async def candidate(session: AsyncSession, candidate_id: str) -> Candidate | None:
    return await session.get(Candidate, candidate_id)


async def invitation(session: AsyncSession, invitation_id: str) -> Invitation | None:
    return await session.get(Invitation, invitation_id)


async def clear(session: AsyncSession, inbox: Any, consumers: Sequence[str]) -> None:
    """Everything built from events, and the consumers' inbox rows (for a rebuild)."""
    for model in (Invitation, Versions, DemandFact, SupplyFact, Candidate):
        await session.execute(delete(model))
    await session.execute(delete(inbox).where(inbox.c.consumer.in_(consumers)))


# ---- questions -------------------------------------------------------------------------------
def valid_at(model: Fact, at: datetime) -> ColumnElement[bool]:
    return and_(model.valid_from <= at, or_(model.valid_to.is_(None), model.valid_to > at))


def dimension(model: Fact, name: str) -> ColumnElement[Any]:
    """A grouping column: ``occupation2``/``3``/``4`` (ISCO-08 levels), ``ward``, ``district``,
    ``province``, ``trade_level``, ``qualification``."""
    if name.startswith("occupation"):
        return func.substr(model.occupation, 1, int(name[-1]))
    return {"ward": model.ward_code, "district": model.district_code, "province": model.province_code,
            "trade_level": model.trade_level, "qualification": model.qualification}[name]


def _filters(model: Fact, filters: dict[str, str]) -> list[ColumnElement[bool]]:
    conditions = []
    if occupation := filters.get("occupation"):
        conditions.append(func.substr(model.occupation, 1, len(occupation)) == occupation)
    for name, column in (("ward", model.ward_code), ("district", model.district_code),
                         ("province", model.province_code)):
        if value := filters.get(name):
            conditions.append(column == value)
    return conditions


async def supply_at(session: AsyncSession, at: datetime, group_by: Sequence[str],
                    filters: dict[str, str]) -> dict[tuple[Any, ...], int]:
    """Seeking candidates per group (each counted once per group, however many occupations)."""
    keys = [dimension(SupplyFact, g) for g in group_by]
    query = (select(*keys, func.count(func.distinct(SupplyFact.candidate_id)))
             .where(valid_at(SupplyFact, at), *_filters(SupplyFact, filters)))
    if keys:
        query = query.group_by(*keys)
    return {tuple(row[:-1]): row[-1] for row in await session.execute(query)}


async def demand_at(session: AsyncSession, at: datetime, group_by: Sequence[str],
                    filters: dict[str, str]) -> dict[tuple[Any, ...], tuple[int, int]]:
    """Open vacancies and their unfilled openings per group."""
    keys = [dimension(DemandFact, g) for g in group_by]
    query = (select(*keys, func.count(func.distinct(DemandFact.vacancy_id)), func.sum(DemandFact.openings))
             .where(valid_at(DemandFact, at), *_filters(DemandFact, filters)))
    if keys:
        query = query.group_by(*keys)
    return {tuple(row[:-2]): (row[-2], int(row[-1] or 0)) for row in await session.execute(query)}


async def qualified_share(session: AsyncSession, at: datetime) -> tuple[int, int]:
    """(seeking candidates, of whom with a vocational certificate or a degree) at ``at``."""
    qualified = func.count(func.distinct(SupplyFact.candidate_id)).filter(SupplyFact.qualification != "none")
    row = (await session.execute(select(func.count(func.distinct(SupplyFact.candidate_id)), qualified)
                                 .where(valid_at(SupplyFact, at)))).one()
    return int(row[0]), int(row[1])


async def insured_share(session: AsyncSession, at: datetime) -> tuple[int, int]:
    """(open vacancies, of which with social insurance) at ``at``."""
    row = (await session.execute(select(func.count(), func.count().filter(DemandFact.social_insurance.is_(True)))
                                 .where(valid_at(DemandFact, at)))).one()
    return int(row[0]), int(row[1])


async def funnel(session: AsyncSession, at: datetime) -> list[tuple[Invitation, Candidate | None]]:
    """Invitations issued by ``at``, with who was invited (for breakdowns by ward and group)."""
    rows = await session.execute(
        select(Invitation, Candidate).outerjoin(Candidate, Candidate.candidate_id == Invitation.candidate_id)
        .where(Invitation.invited_at.is_not(None), Invitation.invited_at <= at)
        .order_by(Invitation.job_fair_id, Invitation.invitation_id))
    return [(i, c) for i, c in rows.tuples()]


async def first_facts(session: AsyncSession, model: Fact, filters: dict[str, str]) -> list[tuple[datetime, int]]:
    """When each candidate began seeking or each vacancy opened (its first fact within the
    filters), with its openings (1 for a candidate): the events a monthly series counts."""
    entity = _entity(model)
    amount = DemandFact.openings if model is DemandFact else 1
    rows = await session.execute(select(entity, model.valid_from, amount).where(*_filters(model, filters))
                                 .order_by(model.valid_from))
    seen: set[str] = set()
    out = []
    for entity_id, valid_from, value in rows:
        if entity_id not in seen:
            seen.add(entity_id)
            out.append((valid_from, int(value)))
    return out

