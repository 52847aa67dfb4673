import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import ConfigDict, field_validator
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema
from sqlmodel import Field, SQLModel

from app.kit.etag import etag
from app.kit.pagination import Page
from app.kit.schemas import Count, RequestBody, Version, required
from app.models import (
    ISBN_LENGTH,
    Author,
    AuthorBase,
    AuthorBio,
    AuthorName,
    BookTitle,
    PublishedYear,
)
from app.search.highlight import Searched
from app.search.query import SearchableQuery, ranked

# The answers' examples follow "Try it out" on a seeded database: the author the create example
# makes, after an import of the file the imports example sends.
URSULA: JsonDict = {
    "name": "Ursula K. Le Guin",
    "bio": "Wrote of Earthsea and the Hainish worlds.",
    "id": "01a20ce4-075c-769e-b2a7-4de452e6b438",
    "created_at": "2026-11-24T09:30:00.412000Z",
    "updated_at": "2026-11-24T09:30:00.412000Z",
    "version": 1,
}
THE_DISPOSSESSED: JsonDict = {
    "id": "01a20ce6-7aa8-71e7-a8e2-5d940ed90475",
    "title": "The Dispossessed",
    "isbn": "9780060512750",
    "published_year": 1974,
}


class AuthorCreate(RequestBody, AuthorBase):
    model_config = ConfigDict(  # type: ignore[assignment]
        json_schema_extra={
            "examples": [
                {"name": "Ursula K. Le Guin", "bio": "Wrote of Earthsea and the Hainish worlds."}
            ]
        }
    )


class AuthorUpdate(RequestBody):
    """The fields to change; `null` clears `bio`."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"bio": "American author of speculative fiction."}]}
    )

    name: AuthorName | None = None
    bio: AuthorBio = None

    _name_not_null = field_validator("name")(required)


class AuthorRead(AuthorBase):
    model_config = ConfigDict(json_schema_extra={"examples": [URSULA]})  # type: ignore[assignment]

    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    version: Version


class AuthorListItem(AuthorRead, Searched):
    """An author in a list, with their book count and any highlights a search asked for."""

    model_config = ConfigDict(  # type: ignore[assignment]
        json_schema_extra={"examples": [{**URSULA, "book_count": 1}]}
    )

    book_count: Count


class AuthorPage(Page[AuthorListItem]):
    """A page of authors."""


class AuthorBook(SQLModel):
    id: uuid.UUID
    title: BookTitle
    isbn: str | None = Field(max_length=ISBN_LENGTH)
    published_year: PublishedYear | None
    # Not shown: the author's ETag changes with each of their books.
    version: SkipJsonSchema[int] = Field(exclude=True)


class AuthorDetail(AuthorRead):
    """An author with all of their books."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**URSULA, "books": [THE_DISPOSSESSED]}]}
    )

    books: list[AuthorBook]

    @property
    def etag(self) -> str:
        """The tag of the author as `GET /authors/{id}` shows it, books included."""
        return etag(self.version, *((book.id, book.version) for book in self.books))


class AuthorQuery(SearchableQuery):
    sorting = ranked(
        {"name": Author.name, "created_at": Author.created_at, "updated_at": Author.updated_at},
        default="name",
        tie_breaker=Author.id,
    )

    name: AuthorName | None = Field(default=None, description="Exact name, any case.")
    q: AuthorName | None = Field(default=None, description="Part of the name, any case.")


AuthorQueryDep = Annotated[AuthorQuery, Query()]
