"""Settings read from the environment (and an optional `.env` file)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting Folio reads; each one is an upper-case environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./data/folio.db"
    host: str = "127.0.0.1"
    port: int = 8000
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
