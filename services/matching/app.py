"""The matching service application."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI

from kit.app import ServiceContext, ServiceSpec, create_service_app
from kit.bus import Bus
from kit.periodic import PeriodicTask
from kit.settings import RuntimeSettings
from services.matching import models
from services.matching.api import router
from services.matching.jobfairs import JobFairs
from services.matching.jobfairs_api import router as jobfairs_router
from services.matching.consumers import consumers
from services.matching.events import registry
from services.matching.learning import adopted_weights
from services.matching.scoring import feature_space
from services.matching.service import MatchingService
from services.matching.settings import MatchingSettings


def start(ctx: ServiceContext) -> None:
    settings: MatchingSettings = ctx.settings  # type: ignore[assignment]
    feature_space()  # the vocabulary's TF-IDF model, fitted now rather than on the first event
    matching = MatchingService(settings.weights.weights(), settings.priority_boosts, settings.index_compact_at)
    ctx.extras["matching"] = matching
    ctx.extras["jobfairs"] = JobFairs(ctx.db, ctx.outbox, matching, Path(ctx.runtime.var_dir) / "reports")


async def ready(ctx: ServiceContext) -> None:
    """Adopt the newest fitted weights, if any, then fill the index from the read models."""
    service: MatchingService = ctx.extras["matching"]
    adopted = await adopted_weights(ctx.db)
    if adopted is not None:
        service.index.weights, ctx.extras["model_evaluation"] = adopted
    await service.load(ctx.db)
    await ctx.extras["jobfairs"].abandon_interrupted_runs()


def periodic(ctx: ServiceContext) -> list[PeriodicTask]:
    """Where this process does not consume events itself (an API replica beside a worker), its
    index follows the read models the worker writes."""
    settings: MatchingSettings = ctx.settings  # type: ignore[assignment]
    if settings.run_consumers:
        return []
    service: MatchingService = ctx.extras["matching"]
    since = {"at": datetime.now(UTC) - timedelta(seconds=5)}

    async def sync() -> None:
        since["at"] = await service.sync(ctx.db, since["at"])

    return [PeriodicTask("match-index-sync", settings.index_sync_interval_s, sync)]


SPEC = ServiceSpec(
    name="matching",
    title="JobLink Matching",
    description="Read models of candidates and vacancies, explainable scoring, recommendations, job fairs and invitations.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    registry=registry,
    settings_class=MatchingSettings,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[router, jobfairs_router],
    consumers=consumers,
    on_start=start,
    on_ready=ready,
    periodic=periodic,
)


def create_app(
    settings: MatchingSettings | None = None, runtime: RuntimeSettings | None = None, bus: Bus | None = None
) -> FastAPI:
    return create_service_app(SPEC, settings, runtime, bus)
