from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from app.models.base import Entity, UTCDateTime


class ApiKey(Entity, table=True):
    """A client's key: only its SHA-256 is kept, so a stolen database yields no usable key."""

    __tablename__ = "api_key"
    __table_args__ = (Index("ix_api_key_created_at_id", "created_at", "id"),)

    name: str = Field(max_length=200)
    scope: str = Field(max_length=10)
    # The key's first characters, so a person can tell keys apart; not enough to use one.
    prefix: str = Field(max_length=16)
    secret_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
