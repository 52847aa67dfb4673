import uuid
from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field

from app.models.base import Entity, UTCDateTime, version_column

_version = version_column()
ANONYMOUS = uuid.UUID(int=0)


class IdempotencyKey(Entity, table=True):
    """The stored answer to a POST that carried an `Idempotency-Key` header."""

    __tablename__ = "idempotency_key"
    __table_args__ = (
        Index("ix_idempotency_key_expires_at", "expires_at"),
        UniqueConstraint("api_key_id", "key"),
    )
    __mapper_args__ = {"version_id_col": _version}

    # The API key that sent it (the nil UUID when none did): two clients never share keys.
    api_key_id: uuid.UUID = Field(default=ANONYMOUS)
    key: str = Field(max_length=255)
    # SHA-256 of the method, path and canonical JSON body of the first request.
    fingerprint: str = Field(max_length=64)
    status: int
    body: str = Field(sa_type=Text)
    headers: str = Field(sa_type=Text)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    version: int = Field(default=1, sa_column=_version)
