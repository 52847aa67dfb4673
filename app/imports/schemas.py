"""What the imports API reads and answers, and the shape one imported row must have."""

import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import Field as Limits

from app.books.schemas import MAX_AUTHORS, NO_SERIES, BookCreate
from app.kit.pagination import Page, PageQuery
from app.kit.quoting import MessageText, QuotedText
from app.kit.schemas import MAX_INTEGER, Count, Version, field_error
from app.kit.sorting import Sorting
from app.models import AuthorName, Import, ImportEvent, ImportRowError
from app.models.import_event import EventType
from app.models.import_job import FormatName

OnDuplicate = Literal["fail", "skip", "update"]
Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class ImportRead(BaseModel):
    id: uuid.UUID
    status: Status
    format: FormatName
    on_duplicate: OnDuplicate
    dry_run: bool
    rows_total: Count | None
    rows_processed: Count
    rows_created: Count
    rows_updated: Count
    rows_skipped: Count
    rows_failed: Count
    error: dict[str, Any] | None = Field(
        description="A problem object when the import failed as a whole, else null."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    version: Version

    @classmethod
    def of(cls, job: Import) -> "ImportRead":
        fields = job.model_dump(exclude={"error"})
        return cls.model_validate({**fields, "error": json.loads(job.error or "null")})


class ImportErrorRead(BaseModel):
    line: int = Field(
        ge=1,
        le=MAX_INTEGER,
        description="The physical line the row starts on; a CSV header is line 1.",
    )
    loc: QuotedText | None = Field(
        description="The column or key at fault; null for the whole row."
    )
    msg: MessageText
    type: str = Field(max_length=100)


class ImportEventRead(BaseModel):
    id: int = Field(ge=1, le=MAX_INTEGER)
    at: datetime
    type: EventType
    detail: dict[str, Any]


class ImportPage(Page[ImportRead]):
    """A page of imports."""


class ImportErrorPage(Page[ImportErrorRead]):
    """A page of an import's row errors."""


class ImportEventPage(Page[ImportEventRead]):
    """A page of an import's events."""


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
    """One row of an import: a book as `POST /books` takes it, its authors by id or by name.

    Each place in the book's list of authors is an id (`author_ids`, or v1's `author_id`), a
    name (`authors`, or v1's `author`), or both: the id when that author exists, else the name.
    """

    author: AuthorName | None = None
    authors: Annotated[list[AuthorName], Limits(min_length=1, max_length=MAX_AUTHORS)] | None = None

    @model_validator(mode="after")
    def one_list_of_authors(self) -> Self:
        if not self.places:
            message = "Give authors or author_ids (or author, or author_id)."
            raise field_error(("author",), "missing", message, None)
        if self.series_position is not None and self.series is None:
            raise field_error(("series_position",), "series_missing", NO_SERIES, None)
        return self

    @property
    def places(self) -> list[tuple[uuid.UUID | None, str | None]]:
        """Each place's author id and name as the row gives them, in order."""
        if self.author_ids is not None or self.authors is not None:
            ids: list[uuid.UUID | None] = list(self.author_ids or [])
            names: list[str | None] = list(self.authors or [])
            width = max(len(ids), len(names))
            ids += [None] * (width - len(ids))
            names += [None] * (width - len(names))
            return list(zip(ids, names, strict=True))
        if self.author_id is None and self.author is None:
            return []
        return [(self.author_id, self.author)]
