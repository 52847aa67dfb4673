"""The request and answer bodies the comparison apps share (`bench/plain_app.py`,
`bench/alchemy_app.py`): Folio's JSON for a book and a page, written as their users would write
them, so that the apps differ only in how they reach the database."""

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, computed_field
from sqlmodel import Field, SQLModel


def in_utc(value: datetime) -> datetime:
    """Timestamps are stored in UTC; SQLite gives them back without a zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


Timestamp = Annotated[datetime, AfterValidator(in_utc)]


class BookBase(SQLModel):
    title: str = Field(min_length=1, max_length=500)
    isbn: str | None = Field(default=None, max_length=32)
    published_year: int | None = None
    description: str | None = Field(default=None, max_length=20000)


class BookCreate(BookBase):
    author_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=20)
    author_id: uuid.UUID | None = None
    tags: list[str] = Field(default_factory=list, max_length=20)

    def authors_in_order(self) -> list[uuid.UUID]:
        """`author_ids`, or the one `author_id` of API v1."""
        return self.author_ids or ([self.author_id] if self.author_id else [])

    def tag_names(self) -> list[str]:
        """The tags' names as stored: lower case, once each."""
        return sorted({name.lower() for name in self.tags})

    def stored_isbn(self) -> str | None:
        return None if self.isbn is None else self.isbn.replace("-", "").replace(" ", "")


class AuthorRead(SQLModel):
    id: uuid.UUID
    name: str


class BookRead(BookBase):
    publisher: str | None
    language: str | None
    series: str | None
    series_position: float | None
    id: uuid.UUID
    authors: list[AuthorRead]
    tags: list[str]
    created_at: Timestamp
    updated_at: Timestamp
    version: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def author_id(self) -> uuid.UUID:
        """The first author's id (API v1 had one author)."""
        return self.authors[0].id

    @computed_field  # type: ignore[prop-decorator]
    @property
    def author(self) -> AuthorRead:
        """The first author (API v1 had one author)."""
        return self.authors[0]

    @classmethod
    def of(
        cls, columns: Mapping[str, Any], authors: Iterable[Any], tags: Iterable[Any]
    ) -> "BookRead":
        """A book's answer from its row's columns, its authors in order and its tags."""
        shown = [AuthorRead(id=author.id, name=author.name) for author in authors]
        names = [tag.name for tag in tags]
        return cls.model_validate({**columns, "authors": shown, "tags": names})


class PageMeta(SQLModel):
    page: int
    per_page: int
    total: int
    pages: int


class BookPage(SQLModel):
    items: list[BookRead]
    meta: PageMeta
