"""Settings of the candidates service (environment prefix ``JOBLINK_CANDIDATES_``)."""

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class CandidatesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLINK_CANDIDATES_", extra="ignore")
