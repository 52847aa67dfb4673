"""What the imports API reads and answers, and the shape one imported row must have."""

import json
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.books.schemas import BookCreate
from app.kit.pagination import PageQuery
from app.kit.sorting import Sorting
from app.models import Import, ImportEvent, ImportRowError
from app.models.import_job import FormatName

OnDuplicate = Literal["fail", "skip", "update"]
Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class ImportRead(BaseModel):
    id: uuid.UUID
    status: Status
    format: FormatName
    on_duplicate: OnDuplicate
    dry_run: bool
    rows_total: int | None
    rows_processed: int
    rows_created: int
    rows_updated: int
    rows_skipped: int
    rows_failed: int
    error: dict[str, Any] | None = Field(
        description="A problem object when the import failed as a whole, else null."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, job: Import) -> "ImportRead":
        fields = job.model_dump(exclude={"error"})
        return cls.model_validate({**fields, "error": json.loads(job.error or "null")})


class ImportErrorRead(BaseModel):
    line: int = Field(description="The physical line the row starts on; a CSV header is line 1.")
    loc: str | None = Field(description="The column or key at fault; null for the whole row.")
    msg: str
    type: str


class ImportEventRead(BaseModel):
    id: int
    at: datetime
    type: str
    detail: dict[str, Any]


class ImportOptions(BaseModel):
    """How `POST /imports` treats the file; unknown parameters are refused, as on lists."""

    model_config = ConfigDict(extra="forbid")

    on_duplicate: OnDuplicate = Field(
        default="fail", description="What a row whose ISBN is already known does."
    )
    dry_run: bool = Field(default=False, description="Check every row and write no book.")


class ImportQuery(PageQuery):
    sorting = Sorting({"created_at": Import.created_at}, "-created_at", Import.id)

    status: Status | None = Field(default=None, description="Imports in this status.")


class ImportErrorQuery(PageQuery):
    sorting = Sorting({"line": ImportRowError.line}, "line", ImportRowError.id)


class ImportEventQuery(PageQuery):
    sorting = Sorting({"id": ImportEvent.id}, "id", ImportEvent.id)


class ImportRow(BookCreate):
    """One row of an import: a book as `POST /books` takes it, its author by id or by name."""

    author_id: uuid.UUID | None = None  # type: ignore[assignment]
    author: str | None = Field(default=None, min_length=1, max_length=200)
