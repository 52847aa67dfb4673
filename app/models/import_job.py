"""An import of books: a job row whose status machine the database itself enforces."""

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import BigInteger, CheckConstraint, Index, Text
from sqlmodel import Field

from app.models.base import Entity, UTCDateTime

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED = ("succeeded", "failed", "cancelled")
# The formats of an upload: app/imports/formats.py has an object for each.
FormatName = Literal["csv", "ndjson"]
FORMATS: tuple[str, ...] = get_args(FormatName)
ON_DUPLICATE = ("fail", "skip", "update")
# How the file is read: app/imports/formats/ and app/imports/charsets.py say what each means.
UnknownColumns = Literal["error", "ignore"]
Delimiter = Literal["comma", "semicolon", "tab"]
Charset = Literal["utf-8", "utf-16", "iso-8859-1", "windows-1252"]


def quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class Import(Entity, table=True):
    """One upload of books and how far the runner has got with it."""

    __tablename__ = "import"
    __table_args__ = (
        CheckConstraint(f"status IN ({quoted(STATUSES)})", name="status"),
        CheckConstraint(f"format IN ({quoted(FORMATS)})", name="format"),
        CheckConstraint(f"on_duplicate IN ({quoted(ON_DUPLICATE)})", name="on_duplicate"),
        # A finished import has its finish time, and nothing else has one.
        CheckConstraint(
            f"(status IN ({quoted(FINISHED)})) = (finished_at IS NOT NULL)", name="finished_at"
        ),
        # Only a failed import carries a problem; a failed one always does.
        CheckConstraint("(status = 'failed') = (error IS NOT NULL)", name="error"),
        # A running import has been started and is held by a runner under a lease.
        CheckConstraint(
            "status <> 'running' OR (started_at IS NOT NULL AND lease_owner IS NOT NULL"
            " AND lease_expires_at IS NOT NULL)",
            name="running_lease",
        ),
        CheckConstraint("status <> 'queued' OR lease_owner IS NULL", name="queued_free"),
        CheckConstraint(
            "rows_created >= 0 AND rows_updated >= 0 AND rows_skipped >= 0 AND rows_failed >= 0"
            " AND rows_processed = rows_created + rows_updated + rows_skipped + rows_failed",
            name="counters",
        ),
        CheckConstraint(
            "rows_total IS NULL OR rows_processed <= rows_total", name="processed_within_total"
        ),
        CheckConstraint("checkpoint_offset >= 0 AND checkpoint_line >= 0", name="checkpoint"),
        CheckConstraint(
            f"unknown_columns IN ({quoted(get_args(UnknownColumns))})", name="unknown_columns"
        ),
        CheckConstraint(
            f"delimiter IS NULL OR delimiter IN ({quoted(get_args(Delimiter))})", name="delimiter"
        ),
        CheckConstraint(f"charset IN ({quoted(get_args(Charset))})", name="charset"),
        CheckConstraint("warnings >= 0", name="warnings"),
        Index("ix_import_created_at_id", "created_at", "id"),
        Index("ix_import_status_created_at_id", "status", "created_at", "id"),
    )

    status: str = Field(default="queued", max_length=16)
    format: str = Field(max_length=16)
    on_duplicate: str = Field(default="fail", max_length=16)
    dry_run: bool = False
    rows_total: int | None = None
    rows_processed: int = 0
    rows_created: int = 0
    rows_updated: int = 0
    rows_skipped: int = 0
    rows_failed: int = 0
    # Values of applied rows that were read otherwise than spelled (import_warning has them).
    warnings: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The options the file is read with. `columns`: {field: column} as JSON; `delimiter`: the
    # one given, or the one found once the header is read; `ignored_columns`: a JSON list.
    columns: str | None = Field(default=None, sa_type=Text)
    unknown_columns: str = Field(
        default="error", max_length=16, sa_column_kwargs={"server_default": "error"}
    )
    delimiter: str | None = Field(default=None, max_length=16)
    author_separator: str | None = Field(default=None, max_length=16)
    charset: str = Field(
        default="utf-8", max_length=16, sa_column_kwargs={"server_default": "utf-8"}
    )
    ignored_columns: str | None = Field(default=None, sa_type=Text)
    # The problem object (JSON) of an import that failed as a whole.
    error: str | None = Field(default=None, sa_type=Text)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    size_bytes: int = Field(default=0, sa_type=BigInteger)
    cancel_requested: bool = False
    # Who runs it, until when, and how many times a runner has claimed it.
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    # Where the last committed batch ended: bytes into the upload, physical lines read.
    checkpoint_offset: int = Field(default=0, sa_type=BigInteger)
    checkpoint_line: int = 0
    # Updated in SQL by the runner (version = version + 1), so no ORM version counter.
    version: int = 1

    @property
    def finished(self) -> bool:
        return self.status in FINISHED
