import uuid
from datetime import datetime

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from app.models import AuthorBase
from app.schemas import RequestBody, required
from app.search.highlight import Searched
from app.search.query import SearchableQuery


class AuthorCreate(RequestBody, AuthorBase):
    name: str = Field(min_length=1, max_length=200)
    bio: str | None = Field(default=None, min_length=1, max_length=5000)


class AuthorUpdate(RequestBody):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    bio: str | None = Field(default=None, min_length=1, max_length=5000)

    _name_not_null = field_validator("name")(required)


class AuthorRead(AuthorBase):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    version: int


class AuthorListItem(AuthorRead, Searched):
    book_count: int


class AuthorBook(SQLModel):
    id: uuid.UUID
    title: str
    isbn: str | None
    published_year: int | None


class AuthorDetail(AuthorRead):
    books: list[AuthorBook]


class AuthorQuery(SearchableQuery):
    sort_fields = ("name", "created_at", "updated_at", "relevance")
    default_sort = "name"

    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="Exact name, any case."
    )
    q: str | None = Field(
        default=None, min_length=1, max_length=200, description="Part of the name, any case."
    )
