"""The insights service application."""

from pathlib import Path

from fastapi import FastAPI

from kit.app import ServiceContext, ServiceSpec, create_service_app
from kit.bus import Bus
from kit.settings import RuntimeSettings
from reference.geography import geography
from services.insights import models
from services.insights.api import router
from services.insights.consumers import consumers
from services.insights.events import registry
from services.insights.service import Insights
from services.insights.settings import InsightsSettings


def start(ctx: ServiceContext) -> None:
    settings: InsightsSettings = ctx.settings  # type: ignore[assignment]
    geography()  # loaded now, not on the first event
    ctx.extras["insights"] = Insights(settings.vocational_target)


SPEC = ServiceSpec(
    name="insights",
    title="JobLink Insights",
    description="Labour-market statistics and the plan's indicators, built from events alone (no personal data).",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    registry=registry,
    settings_class=InsightsSettings,
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[router],
    consumers=consumers,
    on_start=start,
)


def create_app(
    settings: InsightsSettings | None = None, runtime: RuntimeSettings | None = None, bus: Bus | None = None
) -> FastAPI:
    return create_service_app(SPEC, settings, runtime, bus)
