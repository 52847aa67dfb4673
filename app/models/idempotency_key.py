from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field

from app.models.base import Entity, UTCDateTime, version_column

_version = version_column()


class IdempotencyKey(Entity, table=True):
    """The stored answer to a POST that carried an `Idempotency-Key` header."""

    __tablename__ = "idempotency_key"
    __table_args__ = (Index("ix_idempotency_key_expires_at", "expires_at"),)
    __mapper_args__ = {"version_id_col": _version}

    key: str = Field(max_length=255, unique=True)
    # SHA-256 of the method, path and canonical JSON body of the first request.
    fingerprint: str = Field(max_length=64)
    status: int
    body: str = Field(sa_type=Text)
    headers: str = Field(sa_type=Text)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    version: int = Field(default=1, sa_column=_version)
