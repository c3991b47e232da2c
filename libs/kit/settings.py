"""Typed settings shared by every service; each service subclasses with its own env prefix."""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class RuntimeSettings(BaseSettings):
    """Settings common to the whole deployment (env prefix ``JOBLINK_``)."""

    model_config = SettingsConfigDict(env_prefix="JOBLINK_", extra="ignore", populate_by_name=True)

    bus: Literal["memory", "kafka"] = Field("memory", description="event bus backend")
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_partitions: int = Field(3, ge=1, description="partitions of topics the platform creates")
    kafka_session_timeout_ms: int = Field(
        10000, ge=1000, description="how soon a dead consumer's partitions move to another member"
    )
    kafka_namespace: str = Field(
        "", pattern=r"^[A-Za-z0-9._-]{0,100}$",
        description="put before every topic and consumer group name on the broker, so that several "
                    "deployments (or a benchmark beside a running stack) can share one cluster",
    )
    var_dir: str = Field("var", validation_alias="JOBLINK_VAR", description="local state directory")
    internal_token_key: SecretStr | None = Field(
        None,
        description="shared by the gateway and the services to sign and verify the caller's "
        "identity (at least 32 bytes); the embedded runtime makes one at start",
    )
    log_level: str = "INFO"
    log_json: bool = True


class ServiceSettings(BaseSettings):
    """What every service needs; a service subclass sets ``env_prefix`` and its own fields."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(
        "", description="SQLAlchemy async URL; empty means a SQLite file under the var directory"
    )
    db_pool_size: int = 10
    run_relay: bool = Field(True, description="publish this service's outbox from the API process")
    run_consumers: bool = Field(True, description="consume events in the API process")
    run_periodic: bool = Field(True, description="run the service's timed jobs in this process")
    relay_batch_size: int = Field(5000, ge=1, description="outbox rows per relay transaction (one Kafka request per partition)")
    relay_poll_interval_s: float = Field(0.2, gt=0)
    consumer_batch: bool = Field(
        True, description="apply consecutive messages of a partition in one transaction (up to 100)"
    )
    consumer_max_attempts: int = Field(4, ge=1, description="attempts before a message goes to the DLQ")
    consumer_backoff_s: float = Field(0.2, ge=0, description="first retry delay, doubled each time")
    consumer_backoff_max_s: float = Field(5.0, ge=0)
