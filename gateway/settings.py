"""Gateway settings (environment prefix ``JOBLINK_GATEWAY_``)."""

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SERVICE_URLS = {
    "candidates": "http://127.0.0.1:8101",
    "vacancies": "http://127.0.0.1:8102",
    "matching": "http://127.0.0.1:8103",
    "notifications": "http://127.0.0.1:8104",
    "insights": "http://127.0.0.1:8105",
}


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JOBLINK_GATEWAY_", env_nested_delimiter="__", extra="ignore", populate_by_name=True
    )

    database_url: str = Field("", description="clients and rate limits; empty = SQLite under the var directory")
    service_urls: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_SERVICE_URLS),
        description="base URL of each service in the distributed runtime",
    )
    upstream_timeout_s: float = Field(30.0, gt=0)
    max_body_bytes: int = Field(20 * 1024 * 1024, gt=0, description="larger request bodies get 413")
    max_import_bytes: int = Field(256 * 1024 * 1024, gt=0,
                                  description="the same for CSV imports (paths ending in :import)")

    signing_key_file: str = Field("", description="Ed25519 PEM; empty = <var>/gateway-signing-key.pem, made if missing")
    token_issuer: str = "joblink"
    token_audience: str = "joblink-api"
    token_ttl_s: int = Field(900, ge=60, le=3600)
    external_jwks_url: str | None = Field(None, description="accept tokens of this identity provider too")
    external_issuer: str | None = None
    external_audience: str | None = None

    rate_limit_per_minute: float = Field(600, gt=0, description="sustained requests per client")
    rate_limit_burst: float = Field(60, ge=1, description="requests a client may make at once")
    rate_limit_store: str = Field("auto", pattern="^(auto|memory|database)$",
                                  description="auto = database on PostgreSQL (shared by replicas), else memory")
    cors_origins: list[str] = Field(default_factory=list)

    admin_client_id: str | None = Field(None, validation_alias=AliasChoices("JOBLINK_ADMIN_CLIENT_ID"))
    admin_client_secret: SecretStr | None = Field(None, validation_alias=AliasChoices("JOBLINK_ADMIN_CLIENT_SECRET"))
