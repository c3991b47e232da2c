"""Settings of the vacancies service (environment prefix ``JOBLINK_VACANCIES_``)."""

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class VacanciesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLINK_VACANCIES_", extra="ignore")
