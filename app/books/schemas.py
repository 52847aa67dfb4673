import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import StrictInt, StringConstraints, field_validator
from sqlmodel import Field, SQLModel

from app.books.isbn import normalize_isbn
from app.models import BookBase, Tag, tag_name
from app.schemas import RequestBody, required
from app.search.highlight import Searched
from app.search.query import SearchableQuery

MAX_TAG_LENGTH = 50
TagName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TAG_LENGTH)
]
MIN_YEAR = -3000
# Room for hyphens and spaces around the 13 digits.
MAX_ISBN_INPUT = 32


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
    title: str = Field(min_length=1, max_length=500)
    isbn: str | None = Field(default=None, max_length=MAX_ISBN_INPUT)
    # Strict: "1999", true and 1999.0 are refused rather than quietly converted.
    published_year: StrictInt | None = Field(default=None, ge=MIN_YEAR)
    description: str | None = Field(default=None, min_length=1, max_length=20000)
    author_id: uuid.UUID
    tags: list[TagName] = Field(default_factory=list, max_length=20)

    _isbn = field_validator("isbn")(isbn_or_none)
    _year = field_validator("published_year")(not_after_next_year)
    _tags = field_validator("tags")(tag_names)


class BookUpdate(RequestBody):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    isbn: str | None = Field(default=None, max_length=MAX_ISBN_INPUT)
    published_year: StrictInt | None = Field(default=None, ge=MIN_YEAR)
    description: str | None = Field(default=None, min_length=1, max_length=20000)
    author_id: uuid.UUID | None = None
    tags: list[TagName] | None = Field(default=None, max_length=20)

    _required = field_validator("title", "author_id")(required)
    _isbn = field_validator("isbn")(isbn_or_none)
    _year = field_validator("published_year")(not_after_next_year)
    _tags = field_validator("tags")(tag_names)


class BookAuthor(SQLModel):
    id: uuid.UUID
    name: str


class BookRead(BookBase):
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


class BookListItem(BookRead, Searched):
    pass


class BookQuery(SearchableQuery):
    sort_fields = ("title", "published_year", "created_at", "updated_at", "relevance")
    default_sort = "title"

    author_id: uuid.UUID | None = Field(default=None, description="Books by this author.")
    tag: TagName | None = Field(default=None, description="Books carrying this tag, any case.")
    isbn: str | None = Field(
        default=None, max_length=MAX_ISBN_INPUT, description="Any accepted ISBN spelling."
    )
    year_from: int | None = Field(
        default=None, ge=-(2**31), le=2**31 - 1, description="Published in or after this year."
    )
    year_to: int | None = Field(
        default=None, ge=-(2**31), le=2**31 - 1, description="Published in or before this year."
    )
    q: str | None = Field(
        default=None, min_length=1, max_length=500, description="Part of the title, any case."
    )

    _isbn = field_validator("isbn")(isbn_or_none)
