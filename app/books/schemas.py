import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from fastapi import Query
from pydantic import (
    BaseModel,
    ConfigDict,
    JsonValue,
    Strict,
    StrictInt,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic import Field as Limits
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema
from sqlmodel import Field, SQLModel

from app.books.facets import BookPageMeta, FacetQuery
from app.books.isbn import normalize_isbn
from app.books.language import canonical_language
from app.kit.etag import etag
from app.kit.pagination import Page
from app.kit.schemas import RequestBody, Version, field_error, no_nul, required
from app.kit.sorting import NullsLast, Then
from app.models import (
    MAX_ISBN_INPUT,
    MAX_LANGUAGE_LENGTH,
    MAX_TAG_LENGTH,
    MAX_YEAR,
    MIN_YEAR,
    AuthorName,
    Book,
    BookBase,
    BookDescription,
    BookPublisher,
    BookSeries,
    BookTitle,
    Tag,
    TagName,
    tag_name,
)
from app.search.highlight import Searched
from app.search.query import SearchableQuery, ranked

MAX_TAGS = 20
MAX_AUTHORS = 20
# The ids of the first authors the demo catalogue (`make seed`) loads, the same on every run:
# the OpenAPI document's examples name them, so "Try it out" works on a seeded database.
SEEDED_AUTHORS = ("01a205b3-d000-724c-8454-bf1bc2da90f2", "01a205b3-d001-7c15-988c-a7be8694c4cc")
SEEDED_AUTHOR_NAMES = ("Wendel Ravensworth", "Rhea Salcedo")
# Strict: "1999", true and 1999.0 are refused rather than quietly converted.
Year = Annotated[
    StrictInt, Limits(ge=MIN_YEAR, le=MAX_YEAR, description="From -3000 to next year.")
]
IsbnInput = Annotated[str, Limits(max_length=MAX_ISBN_INPUT)]
TagNames = Annotated[list[TagName], Limits(max_length=MAX_TAGS)]
AuthorIds = Annotated[list[uuid.UUID], Limits(min_length=1, max_length=MAX_AUTHORS)]
LanguageInput = Annotated[str, Limits(min_length=1, max_length=MAX_LANGUAGE_LENGTH)]
# A place in a series, 1.5 for a novella between the first and second book; "2" is refused.
SeriesPosition = Annotated[float, Strict(), Limits(ge=0, le=1_000_000, allow_inf_nan=False)]
TextFilter = Annotated[str, Limits(min_length=1, max_length=200)]
AUTHORS_TWICE = "authors_twice"
SEND_ONE = "Send author_ids or author_id, not both."
NO_SERIES = "A place in a series needs the series."


def isbn_or_none(value: str | None) -> str | None:
    return None if value is None else normalize_isbn(value)


def not_after_next_year(value: int | None) -> int | None:
    if value is not None and value > datetime.now(UTC).year + 1:
        raise ValueError("must not be later than next year")
    return value


def language_or_none(value: str | None) -> str | None:
    return None if value is None else canonical_language(value)


def distinct(value: list[uuid.UUID] | None) -> list[uuid.UUID] | None:
    """Refuse an author named twice: a book's authors are distinct people."""
    if value is not None and len(set(value)) != len(value):
        raise ValueError("must not name an author twice")
    return value


def tag_names(value: list[str] | None) -> list[str]:
    """Lower-case, de-duplicate and sort tag names; null means no tags."""
    names = sorted({tag_name(name) for name in value or []})
    # Lower-casing can lengthen a name ("İ" becomes two characters), so check again.
    if any(len(name) > MAX_TAG_LENGTH for name in names):
        raise ValueError(f"tag names must be at most {MAX_TAG_LENGTH} characters in lower case")
    return names


class BookCreate(RequestBody, BookBase):
    """A new book. Its authors are `author_ids`, in order (or, as in v1, the one `author_id`);
    each tag it names that does not exist yet is created. The example's authors are the first
    two that `make seed` loads."""

    model_config = ConfigDict(  # type: ignore[assignment]
        json_schema_extra={
            "examples": [
                {
                    "title": "The Talisman",
                    "isbn": "978-0-670-69199-9",
                    "published_year": 1984,
                    "description": "A boy crosses into the Territories to save his mother.",
                    "author_ids": [SEEDED_AUTHORS[0], SEEDED_AUTHORS[1]],
                    "tags": ["fantasy", "horror"],
                    "publisher": "Viking",
                    "language": "en",
                    "series": "The Talisman",
                    "series_position": 1,
                }
            ]
        }
    )

    isbn: IsbnInput | None = None
    published_year: Year | None = None
    author_ids: AuthorIds | None = None
    author_id: uuid.UUID | None = Field(
        default=None, description="The one author, as v1 sent it: the same as `author_ids: [id]`."
    )
    tags: TagNames = Field(default_factory=list)
    language: LanguageInput | None = None
    series_position: SeriesPosition | None = None

    _isbn = field_validator("isbn")(isbn_or_none)
    _year = field_validator("published_year")(not_after_next_year)
    _tags = field_validator("tags")(tag_names)
    _language = field_validator("language")(language_or_none)
    _distinct = field_validator("author_ids")(distinct)

    @model_validator(mode="after")
    def one_list_of_authors(self) -> Self:
        if self.author_ids is None and self.author_id is None:
            # At `author_id`, where v1 clients, who send only that, expect it.
            raise field_error(("author_id",), "missing", "Give author_ids (or author_id).", None)
        if self.author_ids is not None and self.author_id is not None:
            raise field_error(("author_id",), AUTHORS_TWICE, SEND_ONE, self.author_id)
        if self.series_position is not None and self.series is None:
            raise field_error(("series_position",), "series_missing", NO_SERIES, None)
        return self

    @property
    def listed_authors(self) -> list[uuid.UUID]:
        """The authors in order, however they were sent."""
        if self.author_ids is not None:
            return self.author_ids
        assert self.author_id is not None
        return [self.author_id]


class BookUpdate(RequestBody):
    """The fields to change; `author_ids` and `tags` replace the whole list, and `null` clears
    an optional field (`series: null` clears the position too)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"published_year": 1968, "tags": ["fantasy"]}]}
    )

    title: BookTitle | None = None
    isbn: IsbnInput | None = None
    published_year: Year | None = None
    description: BookDescription = None
    author_ids: AuthorIds | None = None
    author_id: uuid.UUID | None = None
    tags: TagNames | None = None
    publisher: BookPublisher = None
    language: LanguageInput | None = None
    series: BookSeries = None
    series_position: SeriesPosition | None = None

    _required = field_validator("title", "author_id", "author_ids")(required)
    _isbn = field_validator("isbn")(isbn_or_none)
    _year = field_validator("published_year")(not_after_next_year)
    _tags = field_validator("tags")(tag_names)
    _language = field_validator("language")(language_or_none)
    _distinct = field_validator("author_ids")(distinct)

    @model_validator(mode="after")
    def one_list_of_authors(self) -> Self:
        if {"author_ids", "author_id"} <= self.model_fields_set:
            raise field_error(("author_id",), AUTHORS_TWICE, SEND_ONE, self.author_id)
        if "series" in self.model_fields_set and self.series is None and self.series_position:
            raise field_error(("series_position",), "series_missing", NO_SERIES, None)
        return self

    @property
    def listed_authors(self) -> list[uuid.UUID] | None:
        """The new authors in order, however they were sent; None to keep them."""
        if self.author_ids is not None:
            return self.author_ids
        return None if self.author_id is None else [self.author_id]


# The book the create example makes, as the answer shows it.
SEEDED: list[JsonValue] = [
    {"id": id_, "name": name} for id_, name in zip(SEEDED_AUTHORS, SEEDED_AUTHOR_NAMES, strict=True)
]
THE_TALISMAN: JsonDict = {
    "title": "The Talisman",
    "isbn": "9780670691999",
    "published_year": 1984,
    "description": "A boy crosses into the Territories to save his mother.",
    "publisher": "Viking",
    "language": "en",
    "series": "The Talisman",
    "series_position": 1.0,
    "id": "01a20ce5-1f57-7c5c-a6a3-a4506513270e",
    "authors": SEEDED,
    "tags": ["fantasy", "horror"],
    "created_at": "2026-11-24T09:31:12.087000Z",
    "updated_at": "2026-11-24T09:31:12.087000Z",
    "version": 1,
    "author_id": SEEDED_AUTHORS[0],
    "author": SEEDED[0],
}


class AuthorRef(SQLModel):
    """An author as a book shows them."""

    id: uuid.UUID
    name: AuthorName
    # Not shown: the book's ETag changes with its authors' names, so it carries their versions.
    version: SkipJsonSchema[int] = Field(exclude=True)


class BookRead(BookBase):
    """A book with its authors and tags; `author_id` and `author` are its first author."""

    model_config = ConfigDict(  # type: ignore[assignment]
        json_schema_extra={"examples": [THE_TALISMAN]}
    )

    id: uuid.UUID
    authors: Annotated[list[AuthorRef], Limits(min_length=1, max_length=MAX_AUTHORS)]
    tags: TagNames
    created_at: datetime
    updated_at: datetime
    version: Version

    @field_validator("tags", mode="before")
    @classmethod
    def names_of_tags(cls, value: list[Any]) -> list[Any]:
        return [tag.name if isinstance(tag, Tag) else tag for tag in value]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def author_id(self) -> uuid.UUID:
        """The first author's id, as v1 showed the one author."""
        return self.authors[0].id

    @computed_field  # type: ignore[prop-decorator]
    @property
    def author(self) -> AuthorRef:
        """The first author, as v1 showed the one author."""
        return self.authors[0]

    @property
    def etag(self) -> str:
        """The tag of the book as it is shown, its authors' names included."""
        return etag(self.version, *((author.id, author.version) for author in self.authors))


class BookListItem(BookRead, Searched):
    """A book in a list, with its highlights when a search asked for them."""


class BookPage(Page[BookListItem]):
    """A page of books, with facet counts when they were asked for."""

    meta: BookPageMeta


class BookFilters(BaseModel):
    """The filters of `GET /books`, which exports take too."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    author_id: uuid.UUID | None = Field(
        default=None, description="Books this author is one of the authors of."
    )
    tag: TagName | None = Field(default=None, description="Books carrying this tag, any case.")
    isbn: IsbnInput | None = Field(default=None, description="Any accepted ISBN spelling.")
    year_from: int | None = Field(
        default=None, ge=-(2**31), le=2**31 - 1, description="Published in or after this year."
    )
    year_to: int | None = Field(
        default=None, ge=-(2**31), le=2**31 - 1, description="Published in or before this year."
    )
    q: BookTitle | None = Field(default=None, description="Part of the title, any case.")
    publisher: TextFilter | None = Field(default=None, description="Exact publisher, any case.")
    language: LanguageInput | None = Field(
        default=None, description="A language tag, in any case (`pt-br` finds `pt-BR`)."
    )
    series: TextFilter | None = Field(default=None, description="Exact series, any case.")

    _no_nul = field_validator("*")(no_nul)
    _isbn = field_validator("isbn")(isbn_or_none)
    _language = field_validator("language")(language_or_none)


class BookQuery(BookFilters, FacetQuery, SearchableQuery):
    sorting = ranked(
        {
            "title": Book.title,
            "published_year": Book.published_year,
            "created_at": Book.created_at,
            "updated_at": Book.updated_at,
            # Books with no place in their series come last either way, then by title.
            "series_position": Then(NullsLast(Book.series_position), (Book.title,)),
        },
        default="title",
        tie_breaker=Book.id,
    )


BookQueryDep = Annotated[BookQuery, Query()]
