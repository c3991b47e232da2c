"""The matching service application."""

from pathlib import Path

from fastapi import FastAPI

from kit.app import ServiceSpec, create_service_app
from kit.bus import Bus
from kit.settings import RuntimeSettings
from services.matching import models
from services.matching.events import registry
from services.matching.settings import MatchingSettings

SPEC = ServiceSpec(
    name="matching",
    title="JobLink Matching",
    description="Read models of candidates and vacancies, explainable match scores, recommendations, job fairs and invitation allocation.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    registry=registry,
    settings_class=MatchingSettings,
    migrations_dir=Path(__file__).parent / "migrations",
)


def create_app(
    settings: MatchingSettings | None = None, runtime: RuntimeSettings | None = None, bus: Bus | None = None
) -> FastAPI:
    return create_service_app(SPEC, settings, runtime, bus)
