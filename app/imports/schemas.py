"""What the imports API reads and answers, and the shape one imported row must have."""

import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import Field as Limits

from app.books.schemas import MAX_AUTHORS, NO_SERIES, BookCreate
from app.imports.formats.fields import (
    FIELDS,
    MAX_COLUMNS_OPTION,
    MAX_NAME_CHARS,
    MAX_NAMES_SHOWN,
    parse_columns,
)
from app.kit.pagination import Page, PageQuery
from app.kit.quoting import MessageText, QuotedText
from app.kit.schemas import MAX_INTEGER, Count, Version, field_error, no_nul
from app.kit.sorting import Sorting
from app.models import AuthorName, Import, ImportEvent, ImportRowError, ImportRowWarning
from app.models.import_event import EventType
from app.models.import_job import Charset, Delimiter, FormatName, UnknownColumns

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
    warnings: Count = Field(
        description="How many values of applied rows were repaired; "
        "`GET /imports/{id}/warnings` lists them."
    )
    error: dict[str, Any] | None = Field(
        description="A problem object when the import failed as a whole, else null; "
        "`line` names the line at fault when one is."
    )
    columns: dict[str, Annotated[str, Field(max_length=MAX_COLUMNS_OPTION)]] | None = Field(
        description="The `columns` mapping it was sent with (field → the file's column), or null."
    )
    unknown_columns: UnknownColumns
    delimiter: Delimiter | None = Field(
        description="CSV: the delimiter given, or once the header is read the one found there; "
        "null before that and for NDJSON."
    )
    author_separator: str | None = Field(
        max_length=5,
        description="As given; null: `authors` cells are split at `|` and `author` cells are "
        "one name.",
    )
    charset: Charset = Field(
        description="The charset the file was read in: the Content-Type's, else utf-8."
    )
    ignored_columns: list[Annotated[str, Field(max_length=MAX_NAME_CHARS)]] | None = Field(
        max_length=MAX_NAMES_SHOWN,
        description="CSV with `unknown_columns=ignore`: the columns skipped, once the header is "
        "read (at most 50 names, each cut to 100 characters); else null.",
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    version: Version

    @classmethod
    def of(cls, job: Import) -> "ImportRead":
        json_fields = ("error", "columns", "ignored_columns")
        fields = job.model_dump(exclude=set(json_fields))
        decoded = {name: json.loads(getattr(job, name) or "null") for name in json_fields}
        return cls.model_validate({**fields, **decoded})


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


class ImportWarningRead(BaseModel):
    line: int = Field(
        ge=1,
        le=MAX_INTEGER,
        description="The physical line the row starts on; a CSV header is line 1.",
    )
    loc: str = Field(max_length=100, description="The field whose value was repaired.")
    msg: MessageText = Field(description="How the value was read.")
    type: str = Field(max_length=100)
    value: str = Field(
        max_length=200, description="The value as the file spelled it (cut to 100 characters)."
    )


class ImportEventRead(BaseModel):
    id: int = Field(ge=1, le=MAX_INTEGER)
    at: datetime
    type: EventType
    detail: dict[str, Any]


class ImportPage(Page[ImportRead]):
    """A page of imports."""


class ImportErrorPage(Page[ImportErrorRead]):
    """A page of an import's row errors."""


class ImportWarningPage(Page[ImportWarningRead]):
    """A page of an import's repaired values."""


class ImportEventPage(Page[ImportEventRead]):
    """A page of an import's events."""


class ImportOptions(BaseModel):
    """How `POST /imports` treats the file; unknown parameters are refused, as on lists."""

    model_config = ConfigDict(extra="forbid")

    on_duplicate: OnDuplicate = Field(
        default="fail",
        description="What a row whose book is already known (by ISBN, or else by its title, "
        "authors and year) does.",
    )
    dry_run: bool = Field(default=False, description="Check every row and write no book.")
    columns: str | None = Field(
        default=None,
        max_length=MAX_COLUMNS_OPTION,
        description="Read the file's own columns (CSV) or keys (NDJSON) as Folio's fields: "
        "`field:column` pairs separated by commas, e.g. `title:original_title,authors:writers`. "
        f"Fields: {', '.join(FIELDS)}. A column named like a field is that field unless this "
        "maps the field to another column.",
    )
    unknown_columns: UnknownColumns = Field(
        default="error",
        description="What a column (CSV) or key (NDJSON) that is neither a field nor mapped "
        "does: fails the file (CSV) or its row (NDJSON), or is skipped (`ignore`; the import "
        "lists a CSV's in `ignored_columns`).",
    )
    delimiter: Delimiter | None = Field(
        default=None,
        description="CSV: the character between cells; by default the one of comma, semicolon "
        "and tab that the header line uses most outside quotes.",
    )
    author_separator: str | None = Field(
        default=None,
        min_length=1,
        max_length=5,
        description="CSV: what separates several authors' names in one `authors` cell (default "
        '`|`), and in an `author` cell when given (`,` splits "Stephen King, Peter Straub").',
    )

    _no_nul = field_validator("columns", "author_separator")(no_nul)

    @field_validator("columns")
    @classmethod
    def field_column_pairs(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_columns(value)
        return value

    @field_validator("author_separator")
    @classmethod
    def not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be only white space")
        return value

    def column_map(self) -> dict[str, str]:
        """The `columns` mapping as {field: column}."""
        return parse_columns(self.columns) if self.columns else {}

    def new_import(self, file_format: FormatName, charset: Charset, size: int) -> Import:
        """An import of a file in this format and charset, to be read with these options."""
        columns = self.column_map()
        return Import(
            format=file_format,
            charset=charset,
            on_duplicate=self.on_duplicate,
            dry_run=self.dry_run,
            columns=json.dumps(columns) if columns else None,
            unknown_columns=self.unknown_columns,
            delimiter=self.delimiter,
            author_separator=self.author_separator,
            size_bytes=size,
        )


class ImportQuery(PageQuery):
    sorting = Sorting({"created_at": Import.created_at}, "-created_at", Import.id)

    status: Status | None = Field(default=None, description="Imports in this status.")


class ImportErrorQuery(PageQuery):
    sorting = Sorting({"line": ImportRowError.line}, "line", ImportRowError.id)


class ImportWarningQuery(PageQuery):
    sorting = Sorting({"line": ImportRowWarning.line}, "line", ImportRowWarning.id)


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
