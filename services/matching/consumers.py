"""Event handlers of the matching service: candidates, vacancies and outcomes into the read models."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kit.app import ServiceContext
from kit.consumers import EventConsumer
from kit.events import Envelope, EventData
from services.matching import events as ev
from services.matching.jobfairs import InvalidTransition, InvitationNotFound, JobFairs
from services.matching.service import MatchingService

log = structlog.get_logger("matching.consumers")

# consumer group → its topics; the first two are read models (what a rebuild replays)
GROUPS: dict[str, tuple[str, ...]] = {
    "matching.readmodels": ("candidates.v1", "vacancies.v1"),
    "matching.outcomes": ("jobfairs.v1",),
}
RSVP_GROUP, RSVP_TOPICS = "matching.responses", ("notifications.v1",)
READ_MODEL_TYPES = (ev.CANDIDATE_REGISTERED, ev.CANDIDATE_UPDATED, ev.CANDIDATE_ERASED,
                    ev.VACANCY_OPENED, ev.VACANCY_UPDATED, ev.VACANCY_CLOSED)


def consumers(ctx: ServiceContext) -> list[EventConsumer]:
    service: MatchingService = ctx.extras["matching"]
    fairs: JobFairs = ctx.extras["jobfairs"]

    async def apply(session: AsyncSession, envelope: Envelope, payload: EventData) -> None:
        await service.apply(session, envelope, payload)  # type: ignore[arg-type]
        if isinstance(payload, ev.CandidateErased):
            await fairs.forget_candidate(session, payload.candidate_id)

    async def responded(session: AsyncSession, _envelope: Envelope, payload: EventData) -> None:
        assert isinstance(payload, ev.InvitationResponded)
        try:
            await fairs.respond(session, payload.invitation_id, payload.answer, who=None)
        except (InvitationNotFound, InvalidTransition) as exc:  # e.g. an answer after the outcome: kept as is
            log.warning("response_ignored", invitation_id=payload.invitation_id, reason=str(exc))

    async def delivered(session: AsyncSession, _envelope: Envelope, payload: EventData) -> None:
        assert isinstance(payload, ev.NotificationDelivered)
        if payload.invitation_id:
            await fairs.delivered(session, payload.invitation_id)

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
        EventConsumer(
            name=RSVP_GROUP,
            topics=RSVP_TOPICS,
            handlers={ev.INVITATION_RESPONDED: responded, ev.NOTIFICATION_DELIVERED: delivered},
            registry=ctx.registry,
            db=ctx.db,
            inbox=ctx.inbox,
        ),
    ]
