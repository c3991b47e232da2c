"""Gateway settings (environment prefix ``JOBLINK_GATEWAY_``)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SERVICE_URLS = {
    "candidates": "http://127.0.0.1:8101",
    "vacancies": "http://127.0.0.1:8102",
    "matching": "http://127.0.0.1:8103",
    "notifications": "http://127.0.0.1:8104",
}


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOBLINK_GATEWAY_", env_nested_delimiter="__", extra="ignore")

    service_urls: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_SERVICE_URLS),
        description="base URL of each service in the distributed runtime",
    )
    upstream_timeout_s: float = Field(30.0, gt=0)
    max_body_bytes: int = Field(20 * 1024 * 1024, gt=0, description="larger request bodies get 413")
