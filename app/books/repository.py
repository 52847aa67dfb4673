import uuid
from collections import defaultdict
from typing import Annotated, Any, NamedTuple, TypeVar

# SQLModel's select() takes at most four columns, and its exec() is typed for no more;
# a book row has eleven.
from sqlalchemy import bindparam
from sqlalchemy import select as select_columns
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select

from app.books.schemas import (
    BookAuthor,
    BookCreate,
    BookListItem,
    BookQuery,
    BookRead,
    BookUpdate,
)
from app.db import SessionDep, insert_missing, on_session
from app.models import Author, Book, BookTag, Tag, fold, tag_name, utcnow, uuid7
from app.repository import after_cursor, count_matching, order_by, relation
from app.search.highlight import highlights
from app.search.query import relevance_columns
from app.search.sql import book_match, substring_filter

SORT_COLUMNS: dict[str, Any] = {
    "title": Book.title,
    "published_year": Book.published_year,
    "created_at": Book.created_at,
    "updated_at": Book.updated_at,
}
# What an ORM-loaded book answer shows: its author (one join) and its tags (one query).
WITH_AUTHOR_AND_TAGS = (
    joinedload(relation(Book.author), innerjoin=True),
    selectinload(relation(Book.tags)),
)
# Reads select plain columns: building and tracking ORM objects for a page cost several
# times more than its queries (3.8 ms against 1.3 ms for 20 books with tags, measured).
BOOK_COLUMNS: tuple[Any, ...] = (
    Book.id,
    Book.title,
    Book.isbn,
    Book.published_year,
    Book.description,
    Book.author_id,
    Book.created_at,
    Book.updated_at,
    Book.version,
    col(Author.name).label("author_name"),
    col(Author.version).label("author_version"),
)
# The statements a read runs whatever it asks for are built once, with their values bound
# at execution: building a select and its cache key took longer than running it (0.5 ms of
# a 1.4 ms get, measured on the benchmark machine).
BOOKS_WITH_AUTHOR = select_columns(*BOOK_COLUMNS).join(Author, col(Author.id) == Book.author_id)
BOOK_BY_ID = BOOKS_WITH_AUTHOR.where(col(Book.id) == bindparam("book_id"))
TAG_NAMES = (
    select(BookTag.book_id, Tag.name)
    .join(Tag, col(Tag.id) == BookTag.tag_id)
    .where(col(BookTag.book_id).in_(bindparam("book_ids", expanding=True)))
    .order_by(Tag.name)
)


Read = TypeVar("Read", bound=BookRead)


class FoundBook(NamedTuple):
    book: BookRead
    author_version: int


class BookRepository:
    def __init__(self, session: SessionDep) -> None:
        self.session = session

    async def search(self, query: BookQuery) -> tuple[list[BookListItem], int | None]:
        """Return one page of books with authors and tags, and how many match in all
        (None with `count=none`).

        By cursor or without a count, the page has one row more, which tells `Page.of` whether
        another follows.
        """
        filters: list[Any] = []
        if query.author_id is not None:
            filters.append(Book.author_id == query.author_id)
        if query.tag is not None:
            tagged = select(BookTag.book_id).join(Tag).where(Tag.name == tag_name(query.tag))
            filters.append(col(Book.id).in_(tagged))
        if query.isbn is not None:
            filters.append(Book.isbn == query.isbn)
        if query.year_from is not None:
            filters.append(col(Book.published_year) >= query.year_from)
        if query.year_to is not None:
            filters.append(col(Book.published_year) <= query.year_to)
        if query.q is not None:
            dialect = self.session.get_bind().dialect.name
            filters.append(
                substring_filter(fold(query.q), dialect, "book", Book.id, Book.title_folded)
            )
        statement = BOOKS_WITH_AUTHOR
        sort_columns = SORT_COLUMNS
        if (parsed := query.parsed) is not None:
            match = book_match(parsed, self.session.get_bind().dialect.name, Book.id)
            statement = match.join(statement, Book.id).add_columns(match.rank.label("relevance"))
            sort_columns = {**SORT_COLUMNS, **relevance_columns(query, match.rank)}
        statement = (
            statement.where(*filters, *after_cursor(query, sort_columns, Book.id))
            .order_by(*order_by(query, sort_columns, Book.id))
            .offset(query.offset)
            .limit(query.limit)
        )
        rows = (await self.session.exec(statement)).all()  # type: ignore[call-overload]
        tags = await self.tag_names([row.id for row in rows])
        books = [found_book(row, tags[row.id], query) for row in rows]
        counted = filters if parsed is None else [*filters, match.filter]
        return books, await count_matching(self.session, Book, counted, query, len(rows))

    async def get(self, book_id: uuid.UUID) -> FoundBook | None:
        """Return the book as shown, with its author's version for the ETag, or None."""
        found = await self.session.exec(BOOK_BY_ID, params={"book_id": book_id})  # type: ignore[call-overload]
        row = found.one_or_none()
        if row is None:
            return None
        tags = await self.tag_names([row.id])
        return FoundBook(book_read(row, tags[row.id]), row.author_version)

    async def tag_names(self, book_ids: list[uuid.UUID]) -> defaultdict[uuid.UUID, list[str]]:
        """The sorted tag names of each of these books, in one query."""
        names: defaultdict[uuid.UUID, list[str]] = defaultdict(list)
        if not book_ids:
            return names
        found = await self.session.exec(TAG_NAMES, params={"book_ids": book_ids})
        for book_id, name in found.all():
            names[book_id].append(name)
        return names

    async def get_for_update(self, book_id: uuid.UUID) -> Book | None:
        """Return the book, locked for the rest of the transaction where the database can."""
        statement = (
            select(Book)
            .where(Book.id == book_id)
            .options(*WITH_AUTHOR_AND_TAGS)
            .with_for_update(of=Book)
        )
        return (await self.session.exec(statement)).one_or_none()

    async def create(self, data: BookCreate) -> Book:
        """Insert the book, creating tags that do not exist yet."""
        book = Book.model_validate(data.model_dump(exclude={"tags"}))
        book.tags = await self.tags_named(data.tags)
        self.session.add(book)
        # A missing author fails this flush on the foreign key; errors.py answers 422.
        await self.session.flush()
        await self.load_author(book)
        return book

    async def update(self, book: Book, data: BookUpdate) -> Book:
        changes = data.model_dump(exclude_unset=True, exclude={"tags"})
        book.sqlmodel_update(changes)
        if "tags" in data.model_fields_set:
            # Without this the tag queries would flush the changed fields first, and the
            # flush after touch() would then count the same update twice in `version`.
            with self.session.no_autoflush:
                book.tags = await self.tags_named(data.tags or [])
        book.touch()
        await self.session.flush()
        if "author_id" in changes:
            await self.load_author(book)
        return book

    async def delete(self, book: Book) -> None:
        await self.session.delete(book)
        await self.session.flush()

    async def tags_named(self, names: list[str]) -> list[Tag]:
        """Return the tags with these names, creating the missing ones.

        Most tags exist already, so they are read first: one statement, not an insert and a
        read, while the write holds SQLite's one write connection.
        """
        if not names:
            return []
        tags = await self.existing_tags(names)
        missing = set(names) - {tag.name for tag in tags}
        if not missing:
            return tags
        now = utcnow()
        rows = [
            {"id": uuid7(), "name": name, "created_at": now, "updated_at": now, "version": 1}
            for name in sorted(missing)
        ]
        await insert_missing(self.session, Tag, rows, key="name")
        return await self.existing_tags(names)

    async def existing_tags(self, names: list[str]) -> list[Tag]:
        statement = select(Tag).where(col(Tag.name).in_(names)).order_by(Tag.name)
        return list((await self.session.exec(statement)).all())

    async def load_author(self, book: Book) -> None:
        """Attach the book's author for the answer, without touching the author's book list."""
        author = await self.session.get(Author, book.author_id)
        set_committed_value(book, "author", author)


BookRepositoryDep = Annotated[BookRepository, on_session(BookRepository)]


def found_book(row: Any, tags: list[str], query: BookQuery) -> BookListItem:
    """A list item, with its rank and highlights when the list searched."""
    item = book_read(row, tags, BookListItem)
    if query.search is None:
        return item
    fields = {
        "title": row.title,
        "author": row.author_name,
        "tags": ", ".join(tags),
        "description": row.description,
    }
    shown = highlights(fields, query.parsed) if query.highlight else None
    item.found_with(row.relevance, shown)
    return item


def book_read(row: Any, tags: list[str], model: type[Read] = BookRead) -> Read:  # type: ignore[assignment]
    """The answer for one row of BOOK_COLUMNS, as `model` (a list's item or a book alone)."""
    return model(
        id=row.id,
        title=row.title,
        isbn=row.isbn,
        published_year=row.published_year,
        description=row.description,
        author_id=row.author_id,
        author=BookAuthor(id=row.author_id, name=row.author_name),
        tags=tags,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )
