"""The candidates service application."""

from pathlib import Path

from fastapi import FastAPI

from kit.app import ServiceSpec, create_service_app
from kit.bus import Bus
from kit.settings import RuntimeSettings
from services.candidates import models
from services.candidates.events import registry
from services.candidates.settings import CandidatesSettings

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
)


def create_app(
    settings: CandidatesSettings | None = None, runtime: RuntimeSettings | None = None, bus: Bus | None = None
) -> FastAPI:
    return create_service_app(SPEC, settings, runtime, bus)
