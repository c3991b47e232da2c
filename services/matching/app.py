"""The matching service application."""

import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

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

log = structlog.get_logger("matching")


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
    if ctx.settings.warm_up_kernel:  # type: ignore[attr-defined]
        ctx.extras["warm_up"] = asyncio.create_task(warm_up_kernel())


async def warm_up_kernel() -> None:
    """The batch kernel compiled into numba's disk cache by a child process, beside this one
    (compiling holds the GIL for seconds: here it would slow every request); this process then
    loads it from the cache on the first fair."""
    started = time.perf_counter()
    child = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.matching.cli", "warm-up",
                                                 stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        _out, err = await child.communicate()
    except asyncio.CancelledError:
        child.kill()
        await child.wait()
        raise
    if child.returncode == 0:
        log.info("kernel_warmed_up", seconds=round(time.perf_counter() - started, 1))
    else:  # the first fair compiles it instead
        log.warning("kernel_warm_up_failed", code=child.returncode, error=err.decode(errors="replace")[-2000:])


async def stop(ctx: ServiceContext) -> None:
    warming: asyncio.Task[None] | None = ctx.extras.get("warm_up")
    if warming is not None and not warming.done():
        warming.cancel()
        await asyncio.gather(warming, return_exceptions=True)


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
    on_stop=stop,
    periodic=periodic,
)


def create_app(
    settings: MatchingSettings | None = None, runtime: RuntimeSettings | None = None, bus: Bus | None = None
) -> FastAPI:
    return create_service_app(SPEC, settings, runtime, bus)
