"""Settings of the notifications service (environment prefix ``JOBLINK_NOTIFICATIONS_``)."""

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLINK_NOTIFICATIONS_", extra="ignore")
