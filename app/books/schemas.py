import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, StrictInt, field_validator
from pydantic import Field as Limits
from pydantic.json_schema import SkipJsonSchema
from sqlmodel import Field, SQLModel

from app.books.isbn import normalize_isbn
from app.kit.etag import etag
from app.kit.schemas import RequestBody, no_nul, required
from app.models import (
    MAX_ISBN_INPUT,
    MAX_TAG_LENGTH,
    MIN_YEAR,
    Book,
    BookBase,
    BookDescription,
    BookTitle,
    Tag,
    TagName,
    tag_name,
)
from app.search.highlight import Searched
from app.search.query import SearchableQuery, ranked

MAX_TAGS = 20
# Strict: "1999", true and 1999.0 are refused rather than quietly converted.
Year = Annotated[StrictInt, Limits(ge=MIN_YEAR)]
IsbnInput = Annotated[str, Limits(max_length=MAX_ISBN_INPUT)]
TagNames = Annotated[list[TagName], Limits(max_length=MAX_TAGS)]


def isbn_or_none(value: str | None) -> str | None:
    return None if value is None else normalize_isbn(value)


def not_after_next_year(value: int | None) -> int | None:
    if value is not None and value > datetime.now(UTC).year + 1:
        raise ValueError("must not be later than next year")
    return value


def tag_names(value: list[str] | None) -> list[str]:
    """Lower-case, de-duplicate and sort tag names; null means no tags."""
    names = sorted({tag_name(name) for name in value or []})
    # Lower-casing can lengthen a name ("İ" becomes two characters), so check again.
    if any(len(name) > MAX_TAG_LENGTH for name in names):
        raise ValueError(f"tag names must be at most {MAX_TAG_LENGTH} characters in lower case")
    return names


class BookCreate(RequestBody, BookBase):
    """A new book; each tag it names that does not exist yet is created."""

    model_config = ConfigDict(  # type: ignore[assignment]
        json_schema_extra={
            "examples": [
                {
                    "title": "A Wizard of Earthsea",
                    "isbn": "978-0-547-72202-3",
                    "published_year": 1968,
                    "description": "A young wizard sets loose a shadow and must hunt it down.",
                    "author_id": "019385f2-7c4e-7a51-9d2b-2f6a3c1e8b40",
                    "tags": ["fantasy", "coming of age"],
                }
            ]
        }
    )

    isbn: IsbnInput | None = None
    published_year: Year | None = None
    author_id: uuid.UUID
    tags: TagNames = Field(default_factory=list)

    _isbn = field_validator("isbn")(isbn_or_none)
    _year = field_validator("published_year")(not_after_next_year)
    _tags = field_validator("tags")(tag_names)


class BookUpdate(RequestBody):
    """The fields to change; `tags` replaces the whole list."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"published_year": 1968, "tags": ["fantasy"]}]}
    )

    title: BookTitle | None = None
    isbn: IsbnInput | None = None
    published_year: Year | None = None
    description: BookDescription = None
    author_id: uuid.UUID | None = None
    tags: TagNames | None = None

    _required = field_validator("title", "author_id")(required)
    _isbn = field_validator("isbn")(isbn_or_none)
    _year = field_validator("published_year")(not_after_next_year)
    _tags = field_validator("tags")(tag_names)


class BookAuthor(SQLModel):
    id: uuid.UUID
    name: str
    # Not shown: the book's ETag changes with its author's name, so it carries the version.
    version: SkipJsonSchema[int] = Field(exclude=True)


class BookRead(BookBase):
    """A book with its author and tags."""

    id: uuid.UUID
    author_id: uuid.UUID
    author: BookAuthor
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    version: int

    @field_validator("tags", mode="before")
    @classmethod
    def names_of_tags(cls, value: list[Any]) -> list[Any]:
        return [tag.name if isinstance(tag, Tag) else tag for tag in value]

    @property
    def etag(self) -> str:
        """The tag of the book as it is shown, its author's name included."""
        return etag(self.version, (self.author.id, self.author.version))


class BookListItem(BookRead, Searched):
    """A book in a list, with its highlights when a search asked for them."""


class BookFilters(BaseModel):
    """The filters of `GET /books`, which exports take too."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    author_id: uuid.UUID | None = Field(default=None, description="Books by this author.")
    tag: TagName | None = Field(default=None, description="Books carrying this tag, any case.")
    isbn: IsbnInput | None = Field(default=None, description="Any accepted ISBN spelling.")
    year_from: int | None = Field(
        default=None, ge=-(2**31), le=2**31 - 1, description="Published in or after this year."
    )
    year_to: int | None = Field(
        default=None, ge=-(2**31), le=2**31 - 1, description="Published in or before this year."
    )
    q: BookTitle | None = Field(default=None, description="Part of the title, any case.")

    _no_nul = field_validator("*")(no_nul)
    _isbn = field_validator("isbn")(isbn_or_none)


class BookQuery(BookFilters, SearchableQuery):
    sorting = ranked(
        {
            "title": Book.title,
            "published_year": Book.published_year,
            "created_at": Book.created_at,
            "updated_at": Book.updated_at,
        },
        default="title",
        tie_breaker=Book.id,
    )


BookQueryDep = Annotated[BookQuery, Query()]
