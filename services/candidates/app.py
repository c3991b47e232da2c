"""The candidates service application."""

from pathlib import Path

from fastapi import FastAPI

from kit.app import ServiceContext, ServiceSpec, create_service_app
from kit.bus import Bus
from kit.settings import RuntimeSettings
import reference
from services.candidates import models
from services.candidates.api import router
from services.candidates.events import registry
from services.candidates.importing import CandidateImporter
from services.candidates.personal import PersonalDataProtector, development_key
from services.candidates.service import CandidateService
from services.candidates.settings import CandidatesSettings


def start(ctx: ServiceContext) -> None:
    settings: CandidatesSettings = ctx.settings  # type: ignore[assignment]
    key = settings.pii_key.get_secret_value().encode() if settings.pii_key else development_key(ctx.runtime.var_dir)
    # Load the reference data now, not on the first request (about 0.4 s).
    reference.load()
    service = CandidateService(ctx.outbox, PersonalDataProtector(key), settings.min_age_years)
    ctx.extras["candidates"] = service
    ctx.extras["importer"] = CandidateImporter(ctx.db, service, workers=settings.import_workers, master_key=key)


async def stop(ctx: ServiceContext) -> None:
    ctx.extras["importer"].close()


SPEC = ServiceSpec(
    name="candidates",
    title="JobLink Candidates",
    description="Candidate profiles registered by partner job centres: skills, trade level, location, priority groups, consent and erasure.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    registry=registry,
    settings_class=CandidatesSettings,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[router],
    on_start=start,
    on_stop=stop,
)


def create_app(
    settings: CandidatesSettings | None = None, runtime: RuntimeSettings | None = None, bus: Bus | None = None
) -> FastAPI:
    return create_service_app(SPEC, settings, runtime, bus)
