"""Settings of the notifications service (environment prefix ``JOBLINK_NOTIFICATIONS_``).

A channel whose endpoint is not configured is not used; with none configured, invitations are
recorded as failed with reason ``no_channel`` (visible in ``GET /api/v1/deliveries``)."""

from __future__ import annotations

from datetime import time

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLINK_NOTIFICATIONS_", extra="ignore")

    public_url: str = Field("http://127.0.0.1:8000", description="the gateway's public address, for RSVP links")

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_sender: str = "JobLink Hải Phòng <thu-moi@joblink.vn>"
    smtp_connections: int = Field(8, ge=1, le=64)
    http_connections: int = Field(
        8, ge=1, le=256, description="kept-open connections to the SMS gateway and to the app backend, each")

    sms_url: str | None = Field(None, description="the SMS gateway's send endpoint")
    sms_authorization: SecretStr | None = Field(None, description="the Authorization header the gateway expects")
    sms_inbound_secret: SecretStr | None = Field(
        None, description="HMAC key the SMS gateway signs replies with (POST /hooks/sms); unset: replies refused")

    app_webhook_url: str | None = Field(None, description="the mobile-app backend's notification webhook")
    app_webhook_secret: SecretStr | None = None

    default_channels: list[str] = Field(["sms", "email"], description="order for a person who gave none")
    send_timeout_s: float = 10.0
    max_attempts: int = Field(5, ge=1, description="attempts on one channel before falling back to the next")
    backoff_s: float = Field(30.0, gt=0, description="first retry delay; doubles with each attempt, with jitter")
    backoff_max_s: float = 3600.0
    contact_wait_s: float = Field(
        900.0, description="how long an invitation waits for contact details that have not arrived yet")
    lease_s: float = Field(120.0, description="how long a claimed invitation is left to the process sending it")
    dispatch_interval_s: float = 1.0
    dispatch_batch: int = Field(200, ge=1, description="invitations claimed by one pass")
    dispatch_passes: int = Field(3, ge=1, description="passes running at once in one process")
    dispatch_concurrency: int = Field(64, ge=1, description="sends in flight in one pass")
    quiet_start: time = Field(time(21, 0), description="no SMS from (Asia/Ho_Chi_Minh)")
    quiet_end: time = Field(time(7, 0), description="no SMS until (Asia/Ho_Chi_Minh)")
