"""The notifications service application."""

import asyncio
from pathlib import Path

import httpx
from fastapi import FastAPI

from kit.app import ServiceContext, ServiceSpec, create_service_app
from kit.bus import Bus
from kit.periodic import PeriodicTask
from kit.settings import RuntimeSettings
from services.notifications import models
from services.notifications.api import public, router
from services.notifications.channels import AppWebhookChannel, Channel, EmailChannel, SmsChannel, SmtpConfig
from services.notifications.consumers import consumers
from services.notifications.events import registry
from services.notifications.messages import Templates
from services.notifications.service import Notifier, Policy
from services.notifications.settings import NotificationsSettings


def channels(settings: NotificationsSettings) -> dict[str, Channel]:
    """The channels whose endpoints are configured."""
    made: dict[str, Channel] = {}
    # Sends beyond these connections queue in the client: a few busy connections carry more
    # requests per second than many idle ones.
    limits = httpx.Limits(max_connections=settings.http_connections,
                          max_keepalive_connections=settings.http_connections)
    if settings.sms_url:
        authorization = settings.sms_authorization.get_secret_value() if settings.sms_authorization else None
        made["sms"] = SmsChannel(settings.sms_url, httpx.AsyncClient(timeout=settings.send_timeout_s, limits=limits),
                                 authorization)
    if settings.smtp_host:
        made["email"] = EmailChannel(SmtpConfig(
            host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls, use_tls=settings.smtp_tls, timeout_s=settings.send_timeout_s,
        ), settings.smtp_connections)
    if settings.app_webhook_url:
        if settings.app_webhook_secret is None:
            raise RuntimeError("JOBLINK_NOTIFICATIONS_APP_WEBHOOK_SECRET is required to sign the app webhook")
        made["app"] = AppWebhookChannel(settings.app_webhook_url,
                                        httpx.AsyncClient(timeout=settings.send_timeout_s, limits=limits),
                                        settings.app_webhook_secret.get_secret_value().encode())
    return made


def policy(settings: NotificationsSettings) -> Policy:
    return Policy(
        default_channels=tuple(settings.default_channels), max_attempts=settings.max_attempts,
        backoff_s=settings.backoff_s, backoff_max_s=settings.backoff_max_s, contact_wait_s=settings.contact_wait_s,
        lease_s=settings.lease_s, send_timeout_s=settings.send_timeout_s, quiet_start=settings.quiet_start,
        quiet_end=settings.quiet_end,
    )


def start(ctx: ServiceContext) -> None:
    settings: NotificationsSettings = ctx.settings  # type: ignore[assignment]
    ctx.extras["channels"] = channels(settings)
    ctx.extras["notifier"] = Notifier(ctx.outbox, Templates(settings.public_url), ctx.extras["channels"],
                                      policy(settings))


def periodic(ctx: ServiceContext) -> list[PeriodicTask]:
    settings: NotificationsSettings = ctx.settings  # type: ignore[assignment]
    notifier: Notifier = ctx.extras["notifier"]

    async def dispatch() -> None:
        async def passes() -> None:
            while await notifier.dispatch(ctx.db, settings.dispatch_batch, settings.dispatch_concurrency):
                pass  # batch after batch while invitations are due

        # Several passes at once: one writes to the database while another waits on the network.
        await asyncio.gather(*(passes() for _ in range(settings.dispatch_passes)))

    task = PeriodicTask("deliver-invitations", settings.dispatch_interval_s, dispatch)
    ctx.extras["dispatcher"] = task
    return [task]


async def stop(ctx: ServiceContext) -> None:
    for channel in ctx.extras.get("channels", {}).values():
        await channel.close()


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
    routers=[router, public],
    consumers=consumers,
    on_start=start,
    periodic=periodic,
    on_stop=stop,
)


def create_app(
    settings: NotificationsSettings | None = None, runtime: RuntimeSettings | None = None, bus: Bus | None = None
) -> FastAPI:
    return create_service_app(SPEC, settings, runtime, bus)
