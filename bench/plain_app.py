"""The app a FastAPI user would write instead of Folio, to compare with it (`--compare plain`).

Plain FastAPI and SQLModel, the way their tutorials teach them: table models for Folio's own
tables (no migrations here: Folio's made the schema), a session per request from a dependency,
`select(...).options(selectinload(...))` to read, `session.add` and `commit` to write, and
response models (`bench/book_answers.py`) that give the same JSON as Folio for the same book.
It answers `GET /books` (`page` and `per_page`, by title then id, with the total in `meta`),
`GET /books/{id}`, `POST /books` (title, `author_ids` or `author_id`, tags, ISBN, year,
description; new tags are created) and `GET /health/ready`. Nothing else: no keys, no limits.

Serve it as the benchmark does: `DATABASE_URL=sqlite+aiosqlite:///bench/work/run-scale30000.db
uvicorn bench.plain_app:app`. It sets no SQLite pragmas, so the database keeps the journal mode
its file has (Folio's WAL) and otherwise runs on the drivers' defaults.
"""

import math
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query
from sqlalchemy import DateTime, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import registry, selectinload
from sqlmodel import Field, Relationship, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bench.book_answers import BookBase, BookCreate, BookPage, BookRead, PageMeta

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///./data/folio.db")

engine = create_async_engine(DATABASE_URL)


def now() -> datetime:
    return datetime.now(UTC)


class Table(SQLModel, registry=registry()):
    """The base of this app's tables: a registry of their own, so that they can share a
    process with Folio's models of the same tables (as the tests do)."""


class BookTag(Table, table=True):
    __tablename__ = "book_tag"

    book_id: uuid.UUID = Field(foreign_key="book.id", primary_key=True)
    tag_id: uuid.UUID = Field(foreign_key="tag.id", primary_key=True)


class Author(Table, table=True):
    """Only what a book shows of its authors: this app reads authors and never writes them."""

    id: uuid.UUID = Field(primary_key=True)
    name: str


class Tag(Table, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(unique=True)
    created_at: datetime = Field(default_factory=now, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=now, sa_type=DateTime(timezone=True))
    version: int = 1


class BookAuthor(Table, table=True):
    """A book's author at their place in the book's order (0 is the first)."""

    __tablename__ = "book_author"

    book_id: uuid.UUID | None = Field(default=None, foreign_key="book.id", primary_key=True)
    author_id: uuid.UUID | None = Field(default=None, foreign_key="author.id", primary_key=True)
    position: int
    author: Author = Relationship()


class Book(BookBase, Table, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # The schema needs the title case-folded (Folio's `q` filter reads it).
    title_folded: str
    publisher: str | None = None
    language: str | None = None
    series: str | None = None
    series_position: float | None = None
    created_at: datetime = Field(default_factory=now, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=now, sa_type=DateTime(timezone=True))
    version: int = 1
    author_links: list[BookAuthor] = Relationship(
        sa_relationship_kwargs={"order_by": "BookAuthor.position"}
    )
    tags: list[Tag] = Relationship(
        link_model=BookTag, sa_relationship_kwargs={"order_by": "Tag.name"}
    )


def answer(book: Book) -> BookRead:
    authors = [link.author for link in book.author_links]
    return BookRead.of(book.model_dump(), authors, book.tags)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

# What a book's answer needs besides its row: its authors in order, and its tags.
WITH_AUTHORS_AND_TAGS: tuple[Any, ...] = (
    selectinload(Book.author_links).selectinload(BookAuthor.author),  # type: ignore[arg-type]
    selectinload(Book.tags),  # type: ignore[arg-type]
)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield
    await engine.dispose()


app = FastAPI(title="Books, the plain way", lifespan=lifespan)


@app.get("/health/ready")
async def ready() -> dict[str, str]:
    """Say the app is up."""
    return {"status": "ok"}


@app.get("/books")
async def list_books(
    session: SessionDep,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> BookPage:
    """List books by title, a page at a time."""
    total = (await session.exec(select(func.count()).select_from(Book))).one()
    statement = (
        select(Book)
        .options(*WITH_AUTHORS_AND_TAGS)
        .order_by(col(Book.title), col(Book.id))
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    books = (await session.exec(statement)).all()
    pages = math.ceil(total / per_page)
    meta = PageMeta(page=page, per_page=per_page, total=total, pages=pages)
    return BookPage(items=[answer(book) for book in books], meta=meta)


@app.get("/books/{book_id}")
async def get_book(book_id: uuid.UUID, session: SessionDep) -> BookRead:
    """Get one book."""
    statement = select(Book).where(col(Book.id) == book_id).options(*WITH_AUTHORS_AND_TAGS)
    book = (await session.exec(statement)).first()
    if book is None:
        raise HTTPException(status_code=404, detail="Book not found")
    return answer(book)


@app.post("/books", status_code=201)
async def create_book(data: BookCreate, session: SessionDep) -> BookRead:
    """Create a book; tags that do not exist yet are created."""
    author_ids = data.authors_in_order()
    if not author_ids or len(set(author_ids)) < len(author_ids):
        raise HTTPException(status_code=422, detail="Give author_ids (or author_id), once each.")
    found = await session.exec(select(Author).where(col(Author.id).in_(author_ids)))
    authors = {author.id: author for author in found}
    if len(authors) < len(author_ids):
        raise HTTPException(status_code=422, detail="No author has one of these ids.")
    names = data.tag_names()
    existing = await session.exec(select(Tag).where(col(Tag.name).in_(names)))
    tags = {tag.name: tag for tag in existing}
    book = Book(
        title=data.title,
        title_folded=data.title.casefold(),
        isbn=data.stored_isbn(),
        published_year=data.published_year,
        description=data.description,
        author_links=[
            BookAuthor(author=authors[author_id], position=position)
            for position, author_id in enumerate(author_ids)
        ],
        tags=[tags.get(name) or Tag(name=name) for name in names],
    )
    session.add(book)
    try:
        await session.commit()
    except IntegrityError:
        raise HTTPException(
            status_code=409, detail="An ISBN or a tag name is taken already."
        ) from None
    return answer(book)
