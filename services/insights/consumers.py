"""Event handlers of the insights service: every topic of the contract except the contacts one."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kit.app import ServiceContext
from kit.consumers import EventConsumer
from kit.events import Envelope, EventData
from services.insights.service import HANDLED, Insights

# profiles first (a rebuild replays group by group), then what refers to them
GROUPS: dict[str, tuple[str, ...]] = {
    "insights.profiles": ("candidates.v1", "vacancies.v1"),
    "insights.fairs": ("jobfairs.v1", "notifications.v1"),
}


def consumers(ctx: ServiceContext) -> list[EventConsumer]:
    insights: Insights = ctx.extras["insights"]

    async def apply(session: AsyncSession, envelope: Envelope, payload: EventData) -> None:
        await insights.apply(session, envelope, payload)

    return [EventConsumer(name=name, topics=topics, handlers=dict.fromkeys(HANDLED, apply), registry=ctx.registry,
                          db=ctx.db, inbox=ctx.inbox) for name, topics in GROUPS.items()]
