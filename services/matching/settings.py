"""Settings of the matching service (environment prefix ``JOBLINK_MATCHING_``)."""

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class MatchingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLINK_MATCHING_", extra="ignore")
