"""The app an advanced-alchemy user would write instead of Folio (`--compare alchemy`).

advanced-alchemy's FastAPI extension and repository services, the way its documentation
teaches them: SQLAlchemy declarative models of Folio's own tables (no migrations here: Folio's
made the schema) on the library's `DefaultBase`, its `GUID` and `DateTimeUTC` column types, a
service per model from `AdvancedAlchemy.provide_service` (the session is the extension's, one
per request), `get_many_and_count` with a `LimitOffset` filter to list, `get` to read one and
`create` to write, with the relationships loaded `selectin` as the models declare. The answers
are the plain app's (`bench/book_answers.py`), so the two differ from Folio only in how they
reach the database. It answers what the plain app answers, and nothing else: no keys, no limits.

Serve it as the benchmark does: `DATABASE_URL=sqlite+aiosqlite:///bench/work/run-scale30000.db
uvicorn bench.alchemy_app:app`. Like the plain app it sets no SQLite pragmas.
"""

import math
import os
import uuid
from datetime import UTC, datetime
from typing import Annotated

from advanced_alchemy.base import DefaultBase
from advanced_alchemy.exceptions import IntegrityError, NotFoundError
from advanced_alchemy.extensions.fastapi import (
    AdvancedAlchemy,
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
)
from advanced_alchemy.filters import LimitOffset
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from advanced_alchemy.types import GUID, DateTimeUTC
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Column, ForeignKey, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bench.book_answers import BookCreate, BookPage, BookRead, PageMeta

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///./data/folio.db")

# Folio stores ids as 32 hex digits on SQLite (SQLAlchemy's `Uuid`) and as `uuid` on PostgreSQL.
Id = GUID(binary=False)


def now() -> datetime:
    return datetime.now(UTC)


book_tag = Table(
    "book_tag",
    DefaultBase.metadata,
    Column("book_id", Id, ForeignKey("book.id"), primary_key=True),
    Column("tag_id", Id, ForeignKey("tag.id"), primary_key=True),
)


class Author(DefaultBase):
    """Only what a book shows of its authors: this app reads authors and never writes them."""

    __tablename__ = "author"

    id: Mapped[uuid.UUID] = mapped_column(Id, primary_key=True)
    name: Mapped[str]


class Tag(DefaultBase):
    __tablename__ = "tag"

    id: Mapped[uuid.UUID] = mapped_column(Id, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC, default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC, default=now)
    version: Mapped[int] = mapped_column(default=1)


class BookAuthor(DefaultBase):
    """A book's author at their place in the book's order (0 is the first)."""

    __tablename__ = "book_author"

    book_id: Mapped[uuid.UUID] = mapped_column(Id, ForeignKey("book.id"), primary_key=True)
    author_id: Mapped[uuid.UUID] = mapped_column(Id, ForeignKey("author.id"), primary_key=True)
    position: Mapped[int]
    author: Mapped[Author] = relationship(lazy="selectin")


class Book(DefaultBase):
    __tablename__ = "book"

    id: Mapped[uuid.UUID] = mapped_column(Id, primary_key=True, default=uuid.uuid4)
    title: Mapped[str]
    # The schema needs the title case-folded (Folio's `q` filter reads it).
    title_folded: Mapped[str]
    isbn: Mapped[str | None]
    published_year: Mapped[int | None]
    description: Mapped[str | None]
    publisher: Mapped[str | None]
    language: Mapped[str | None]
    series: Mapped[str | None]
    series_position: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC, default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC, default=now)
    version: Mapped[int] = mapped_column(default=1)
    author_links: Mapped[list[BookAuthor]] = relationship(
        order_by=BookAuthor.position, lazy="selectin"
    )
    tags: Mapped[list[Tag]] = relationship(secondary=book_tag, order_by=Tag.name, lazy="selectin")


class AuthorService(SQLAlchemyAsyncRepositoryService[Author]):
    class Repo(SQLAlchemyAsyncRepository[Author]):
        model_type = Author

    repository_type = Repo


class TagService(SQLAlchemyAsyncRepositoryService[Tag]):
    class Repo(SQLAlchemyAsyncRepository[Tag]):
        model_type = Tag

    repository_type = Repo


class BookService(SQLAlchemyAsyncRepositoryService[Book]):
    class Repo(SQLAlchemyAsyncRepository[Book]):
        model_type = Book

    repository_type = Repo


app = FastAPI(title="Books, the advanced-alchemy way")
alchemy = AdvancedAlchemy(
    config=SQLAlchemyAsyncConfig(
        connection_string=DATABASE_URL,
        session_config=AsyncSessionConfig(expire_on_commit=False),
    ),
    app=app,
)

Books = Annotated[BookService, Depends(alchemy.provide_service(BookService))]
Authors = Annotated[AuthorService, Depends(alchemy.provide_service(AuthorService))]
Tags = Annotated[TagService, Depends(alchemy.provide_service(TagService))]


def answer(book: Book) -> BookRead:
    authors = [link.author for link in book.author_links]
    return BookRead.of(book.to_dict(), authors, book.tags)


@app.exception_handler(NotFoundError)
async def not_found(_request: Request, _error: NotFoundError) -> JSONResponse:
    return JSONResponse({"detail": "Not found"}, status_code=404)


@app.get("/health/ready")
async def ready() -> dict[str, str]:
    """Say the app is up."""
    return {"status": "ok"}


@app.get("/books")
async def list_books(
    books: Books,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> BookPage:
    """List books by title, a page at a time."""
    found, total = await books.get_many_and_count(
        LimitOffset(limit=per_page, offset=(page - 1) * per_page),
        order_by=[("title", False), ("id", False)],
    )
    pages = math.ceil(total / per_page)
    meta = PageMeta(page=page, per_page=per_page, total=total, pages=pages)
    return BookPage(items=[answer(book) for book in found], meta=meta)


@app.get("/books/{book_id}")
async def get_book(book_id: uuid.UUID, books: Books) -> BookRead:
    """Get one book."""
    return answer(await books.get(book_id))


@app.post("/books", status_code=201)
async def create_book(data: BookCreate, books: Books, authors: Authors, tags: Tags) -> BookRead:
    """Create a book; tags that do not exist yet are created."""
    author_ids = data.authors_in_order()
    if not author_ids or len(set(author_ids)) < len(author_ids):
        raise HTTPException(status_code=422, detail="Give author_ids (or author_id), once each.")
    found = {author.id: author for author in await authors.get_many(Author.id.in_(author_ids))}
    if len(found) < len(author_ids):
        raise HTTPException(status_code=422, detail="No author has one of these ids.")
    names = data.tag_names()
    existing = {tag.name: tag for tag in await tags.get_many(Tag.name.in_(names))}
    book = Book(
        title=data.title,
        title_folded=data.title.casefold(),
        isbn=data.stored_isbn(),
        published_year=data.published_year,
        description=data.description,
        author_links=[
            BookAuthor(author=found[author_id], position=position)
            for position, author_id in enumerate(author_ids)
        ],
        tags=[existing.get(name) or Tag(name=name) for name in names],
    )
    try:
        created = await books.create(book, auto_commit=True)
    except IntegrityError:
        raise HTTPException(
            status_code=409, detail="An ISBN or a tag name is taken already."
        ) from None
    return answer(created)
