"""Settings of the insights service (environment prefix ``JOBLINK_INSIGHTS_``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class InsightsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLINK_INSIGHTS_", extra="ignore")

    vocational_target: float = Field(0.40, description="the plan's target share of candidates with a vocational "
                                                       "certificate or degree")
