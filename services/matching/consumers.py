"""Event handlers of the matching service: candidates, vacancies and outcomes into the read models."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kit.app import ServiceContext
from kit.consumers import EventConsumer
from kit.events import Envelope, EventData
from services.matching import events as ev
from services.matching.service import MatchingService

# consumer group → its topics (also what a rebuild replays)
GROUPS: dict[str, tuple[str, ...]] = {
    "matching.readmodels": ("candidates.v1", "vacancies.v1"),
    "matching.outcomes": ("jobfairs.v1",),
}
READ_MODEL_TYPES = (ev.CANDIDATE_REGISTERED, ev.CANDIDATE_UPDATED, ev.CANDIDATE_ERASED,
                    ev.VACANCY_OPENED, ev.VACANCY_UPDATED, ev.VACANCY_CLOSED)


def consumers(ctx: ServiceContext) -> list[EventConsumer]:
    service: MatchingService = ctx.extras["matching"]

    async def apply(session: AsyncSession, envelope: Envelope, payload: EventData) -> None:
        await service.apply(session, envelope, payload)  # type: ignore[arg-type]

    return [
        EventConsumer(
            name="matching.readmodels",
            topics=GROUPS["matching.readmodels"],
            handlers=dict.fromkeys(READ_MODEL_TYPES, apply),
            registry=ctx.registry,
            db=ctx.db,
            inbox=ctx.inbox,
        ),
        EventConsumer(
            name="matching.outcomes",
            topics=GROUPS["matching.outcomes"],
            handlers={ev.OUTCOME_RECORDED: apply},
            registry=ctx.registry,
            db=ctx.db,
            inbox=ctx.inbox,
        ),
    ]
