"""What every table shares: the constraint naming convention, ids, timestamps and versions."""

import os
import time
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Dialect, Integer, TypeDecorator, text
from sqlmodel import Field, SQLModel

# A module of the standard library only, so models may depend on it as on fold() here.
from app.search.text import search_text

# Stable names let migrations drop constraints and let errors.py map violations by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def uuid7() -> uuid.UUID:
    """Return a time-ordered UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, 74 random."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10)) >> 6
    value = value & ~(0xF << 76) | 0x7 << 76  # version
    value = value & ~(0x3 << 62) | 0x2 << 62  # variant
    return uuid.UUID(int=value)


def fold(text: str) -> str:
    """The form text is matched in: case-folded in Python, so every database and script agrees.

    SQLite's own lower() and LIKE fold ASCII letters only; "Émile" must still find "émile".
    NFC first and last: a decomposed "E\u0301mile" is the same name as a composed "Émile",
    and case-folding may decompose a letter again.
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def tag_name(text: str) -> str:
    """A tag's name as stored and compared: lower-case, in NFC, so "café" is one tag however
    its "é" was typed."""
    return unicodedata.normalize("NFC", text.lower())


def search_column(source: str) -> Any:
    """A column of `source`'s folded words for the search index.

    An insert that leaves it out, through the ORM or not (tags are inserted in bulk), gets it
    computed from `source`; the model's events keep it on updates.
    """

    def from_source(context: Any) -> str:
        return search_text(context.get_current_parameters().get(source))

    return Field(
        default="", sa_column_kwargs={"server_default": text("''"), "default": from_source}
    )


def utcnow() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, SQLite included."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        # SQLite has no time zone type; storing naive UTC keeps its text sortable.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def version_column() -> Column[int]:
    """A `version` column for one table; pass it to both `Field` and `version_id_col`."""
    return Column("version", Integer, nullable=False)


class Entity(SQLModel):
    """Columns shared by every resource table."""

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    def touch(self) -> None:
        """Mark the row as changed now; the ORM bumps `version` when it flushes."""
        self.updated_at = utcnow()
