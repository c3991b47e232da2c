"""Settings of the candidates service (environment prefix ``JOBLINK_CANDIDATES_``)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class CandidatesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLINK_CANDIDATES_", extra="ignore")

    pii_key: SecretStr | None = Field(
        None,
        description="master key (≥ 32 bytes) for encrypting national IDs and keying duplicate checks; "
        "empty = a key kept in <var>/candidates-pii.key, made on first start (development only)",
    )
    min_age_years: int = Field(15, description="labour age (Bộ luật Lao động 2019, art. 143)")
    import_workers: int = Field(
        1, ge=0, le=16,
        description="worker processes that validate and prepare CSV import rows while this one writes the batch "
        "before; 0 = all in this process",
    )
    page_size_max: int = 200
