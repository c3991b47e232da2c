"""Event handlers of the vacancies service: hires recorded at job fairs count against openings."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kit.app import ServiceContext
from kit.consumers import EventConsumer
from kit.events import Envelope, EventData, topic_for
from services.vacancies.events import OUTCOME_RECORDED, InvitationOutcome
from services.vacancies.service import VacancyService


def consumers(ctx: ServiceContext) -> list[EventConsumer]:
    service: VacancyService = ctx.extras["vacancies"]

    async def on_outcome(session: AsyncSession, _envelope: Envelope, payload: EventData) -> None:
        assert isinstance(payload, InvitationOutcome)
        await service.record_outcome(session, payload)

    return [
        EventConsumer(
            name="vacancies.outcomes",
            topics=(topic_for(OUTCOME_RECORDED),),
            handlers={OUTCOME_RECORDED: on_outcome},
            registry=ctx.registry,
            db=ctx.db,
            inbox=ctx.inbox,
        )
    ]
