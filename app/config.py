"""Settings read from the environment (and an optional `.env` file)."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# How a command exits when it cannot start (app/db/checks.py). sysexits.h's EX_CONFIG: a
# supervisor can tell "fix the configuration" from a crash.
EXIT_CONFIG = 78
# sysexits.h's EX_TEMPFAIL: a one-off command met a database that may serve later.
EXIT_UNAVAILABLE = 75


class Settings(BaseSettings):
    """Every setting Folio reads; each one is an upper-case environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./data/folio.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    sql_echo: bool = False
    # Connections kept open, plus those opened under load (which SQLite's readers keep too).
    pool_size: int = Field(default=5, ge=1)
    pool_max_overflow: int = Field(default=10, ge=0)
    pool_timeout: float = Field(default=30.0, gt=0)
    pool_recycle: int = Field(default=1800, ge=-1)
    pool_pre_ping: bool = True
    busy_timeout_ms: int = Field(default=5000, ge=0)
    # Idempotency keys are kept this long; a retry with the same key replays the answer.
    idempotency_ttl_hours: float = Field(default=24, gt=0)
    # How long a request waits for another one with the same key before answering 409.
    idempotency_wait_seconds: float = Field(default=10, ge=0)
    # Operations: log format and level, the metrics endpoint, the slow-statement log (0 = off).
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    metrics_enabled: bool = True
    slow_query_ms: float = Field(default=200, ge=0)
    workers: int = Field(default=1, ge=1)
    # Where traces go (an OTLP/HTTP collector, such as http://127.0.0.1:4318); empty: none.
    otel_exporter_otlp_endpoint: str = ""
    # Connections: the time a client has to send a request's headers, how long an idle one is
    # kept between requests, and how many may be open at once (past it a 503 problem).
    header_timeout_seconds: float = Field(default=10, gt=0)
    keep_alive_seconds: int = Field(default=5, ge=1)
    max_connections: int = Field(default=1000, ge=1)

    @field_validator("log_format", mode="before")
    @classmethod
    def lower_case(cls, value: object) -> object:
        """Accept `JSON` as well as `json`."""
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def upper_case(cls, value: object) -> object:
        """Accept `info` as well as `INFO`, as the logging module's own names are upper-case."""
        return value.strip().upper() if isinstance(value, str) else value

    # Access: who may do what (README "Access"), and the limits around it.
    auth_mode: Literal["keys", "open"] = "keys"
    reads_require_key: bool = False
    rate_limit_per_minute: int = Field(default=600, ge=0)
    auth_failures_per_minute: int = Field(default=20, ge=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    # Event streams open at once, in all and per client address; each holds a connection.
    max_event_streams: int = Field(default=200, ge=1)
    max_event_streams_per_client: int = Field(default=10, ge=1)
    cors_origins: str = ""
    # The proxies (comma-separated addresses, or `*`) whose X-Forwarded-For names the client;
    # none by default, since any process on the host could otherwise pick its own address.
    forwarded_allow_ips: str = ""
    # Imports: the largest upload, rows per batch (one transaction each), how long a runner's
    # claim lasts without a heartbeat, how often an idle runner looks for work, and whether
    # this process runs imports at all.
    max_import_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    import_batch_rows: int = Field(default=500, ge=1, le=10_000)
    import_lease_seconds: float = Field(default=30, gt=0)
    import_poll_seconds: float = Field(default=1, gt=0)
    import_runner: bool = True


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()
