"""Settings of the vacancies service (environment prefix ``JOBLINK_VACANCIES_``)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class VacanciesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLINK_VACANCIES_", extra="ignore")

    deadline_check_interval_s: float = Field(
        300, gt=0, description="how often vacancies past their deadline are closed"
    )
