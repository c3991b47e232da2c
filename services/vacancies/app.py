"""The vacancies service application."""

from pathlib import Path

from fastapi import FastAPI

from kit.app import ServiceSpec, create_service_app
from kit.bus import Bus
from kit.settings import RuntimeSettings
from services.vacancies import models
from services.vacancies.events import registry
from services.vacancies.settings import VacanciesSettings

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
)


def create_app(
    settings: VacanciesSettings | None = None, runtime: RuntimeSettings | None = None, bus: Bus | None = None
) -> FastAPI:
    return create_service_app(SPEC, settings, runtime, bus)
