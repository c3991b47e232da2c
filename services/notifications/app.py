"""The notifications service application."""

from pathlib import Path

from fastapi import FastAPI

from kit.app import ServiceSpec, create_service_app
from kit.bus import Bus
from kit.settings import RuntimeSettings
from services.notifications import models
from services.notifications.events import registry
from services.notifications.settings import NotificationsSettings

SPEC = ServiceSpec(
    name="notifications",
    title="JobLink Notifications",
    description="Invitation delivery by e-mail, SMS and webhook, opt-outs and RSVP intake.",
    metadata=models.Base.metadata,
    outbox=models.outbox,
    inbox=models.inbox,
    registry=registry,
    settings_class=NotificationsSettings,
    migrations_dir=Path(__file__).parent / "migrations",
)


def create_app(
    settings: NotificationsSettings | None = None, runtime: RuntimeSettings | None = None, bus: Bus | None = None
) -> FastAPI:
    return create_service_app(SPEC, settings, runtime, bus)
