"""The vacancies service application."""

from pathlib import Path

from fastapi import FastAPI

from kit.app import ServiceContext, ServiceSpec, create_service_app
from kit.bus import Bus
from kit.periodic import PeriodicTask
from kit.settings import RuntimeSettings
import reference
from services.vacancies import models
from services.vacancies.api import router
from services.vacancies.consumers import consumers
from services.vacancies.events import registry
from services.vacancies.importing import VacancyImporter
from services.vacancies.service import VacancyService
from services.vacancies.settings import VacanciesSettings


def start(ctx: ServiceContext) -> None:
    reference.load()
    service = VacancyService(ctx.outbox)
    ctx.extras["vacancies"] = service
    ctx.extras["importer"] = VacancyImporter(ctx.db, service)


def periodic(ctx: ServiceContext) -> list[PeriodicTask]:
    settings: VacanciesSettings = ctx.settings  # type: ignore[assignment]
    service: VacancyService = ctx.extras["vacancies"]

    async def close_expired() -> None:
        while True:  # batch after batch until none is left
            async with ctx.db.transaction() as session:
                if await service.close_expired(session) == 0:
                    return

    return [PeriodicTask("close-expired-vacancies", settings.deadline_check_interval_s, close_expired)]


SPEC = ServiceSpec(
    name="vacancies",
    title="JobLink Vacancies",
    description="Employers and their vacancies: openings, required skills, minimum trade level, workplace, wage and social insurance.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    registry=registry,
    settings_class=VacanciesSettings,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[router],
    consumers=consumers,
    on_start=start,
    periodic=periodic,
)


def create_app(
    settings: VacanciesSettings | None = None, runtime: RuntimeSettings | None = None, bus: Bus | None = None
) -> FastAPI:
    return create_service_app(SPEC, settings, runtime, bus)
