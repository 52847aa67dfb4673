"""What happened to an import, in order; the events endpoint and its SSE stream read these."""

import uuid
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow

EventType = Literal["queued", "started", "progress", "resumed", "cancelled", "succeeded", "failed"]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)


class ImportEvent(SQLModel, table=True):
    __tablename__ = "import_event"
    __table_args__ = (
        CheckConstraint(
            "type IN (" + ", ".join(f"'{name}'" for name in EVENT_TYPES) + ")", name="type"
        ),
        Index("ix_import_event_import_id_id", "import_id", "id"),
    )

    # A growing integer, so that `Last-Event-ID` says exactly where a stream resumes;
    # SQLite only auto-increments an INTEGER primary key.
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    import_id: uuid.UUID = Field(foreign_key="import.id", ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    type: str = Field(max_length=16)
    # A JSON object: counters for `progress`, the problem for `failed`.
    detail: str = Field(default="{}", sa_type=Text)
