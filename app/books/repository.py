import uuid
from typing import Annotated, Any

# SQLModel's select() takes at most four columns, and its exec() is typed for no more;
# a book row has eleven.
from fastapi import Depends
from sqlalchemy import Integer, String, bindparam, literal_column
from sqlalchemy import select as select_columns
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel, col, insert, select

from app.books.schemas import (
    BookAuthor,
    BookCreate,
    BookListItem,
    BookQuery,
    BookRead,
    BookUpdate,
)
from app.db.session import on_session
from app.db.sqlite_driver import ALONE
from app.kit.loaders import load_or_404, load_to_change
from app.kit.pagination import Slice
from app.kit.repository import Repository, insert_missing, insert_rows, json_list, relation
from app.models import (
    BOOK_TAG,
    Author,
    Book,
    BookTag,
    Tag,
    derived_columns,
    fold,
    tag_name,
    utcnow,
    uuid7,
)
from app.search.highlight import highlights
from app.search.sql import Ranked, book_match, substring_filter

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
# A book's tag names in order, as one value of its row.
TAG_LIST = json_list(
    {"name": Tag.name},
    where=[col(BookTag.book_id) == Book.id, col(Tag.id) == BookTag.tag_id],
    order_by=[col(Tag.name)],
    outer=Book,
    objects=False,
)
# A page's books come with their tags in the page's own statement. Where an index gives the
# page's order, only the rows the page keeps are read; where the rows must be sorted first,
# SQLite computes the tags of every row it sorts (a search limits its matches before that:
# see Ranked in app/search/sql.py).
BOOKS_WITH_TAGS = {
    dialect: BOOKS_WITH_AUTHOR.add_columns(tags.label("tags")) for dialect, tags in TAG_LIST.items()
}
# A get is one statement: the book, its author and its tags. Alone in its transaction, it
# needs neither BEGIN nor COMMIT on SQLite (see app/sqlite_driver.py).
BOOK_BY_ID = {
    dialect: books.where(col(Book.id) == bindparam("book_id")).execution_options(**{ALONE: True})
    for dialect, books in BOOKS_WITH_TAGS.items()
}

# A create writes rows through Core, not ORM objects: the unit of work's flush took more CPU
# than the rest of the request (2.8 of 8.6 ms, measured). Its insert reads back the author's
# name and version in the same statement, where a second statement would hold the writer.
# SQLAlchemy does not correlate a subquery with the row an INSERT returns (it would read the
# whole book table), so the subqueries are written out; both databases run them as written.
BOOK_INSERT = insert(SQLModel.metadata.tables["book"]).returning(
    literal_column("(SELECT author.name FROM author WHERE author.id = book.author_id)", String),
    literal_column("(SELECT author.version FROM author WHERE author.id = book.author_id)", Integer),
)
TAGS_NAMED = (
    select(Tag).where(col(Tag.name).in_(bindparam("names", expanding=True))).order_by(Tag.name)
)


def book_filters(query: BookQuery, dialect: str) -> list[Any]:
    """The WHERE terms of the query's filters."""
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
        filters.append(substring_filter(fold(query.q), dialect, "book", Book.id, Book.title_folded))
    return filters


class BookRepository(Repository[Book]):
    model = Book
    loads = WITH_AUTHOR_AND_TAGS

    async def page(self, query: BookQuery) -> Slice[BookListItem]:
        """One page of books with their authors and tags, best match first when searching."""
        dialect = self.session.get_bind().dialect.name
        parsed = query.parsed
        match = None if parsed is None else book_match(parsed, dialect, Book.id)
        search = Ranked(BOOKS_WITH_TAGS[dialect], match, Book.id)
        found = await search.page(self.session, query, book_filters(query, dialect), Book)
        return found.with_items([listed_book(row, query) for row in found.items])

    async def get(self, book_id: uuid.UUID) -> BookRead | None:
        """The book as shown, or None, in one statement."""
        statement = BOOK_BY_ID[self.session.get_bind().dialect.name]
        found = await self.session.exec(statement, params={"book_id": book_id})  # type: ignore[call-overload]
        row = found.one_or_none()
        return None if row is None else book_read(row)

    async def get_for_update(self, book_id: uuid.UUID) -> BookRead | None:
        """The book as shown, locked for the rest of the transaction where the database can."""
        book = await self.lock(book_id)
        return None if book is None else BookRead.model_validate(book)

    async def create(self, data: BookCreate) -> BookRead:
        """Insert the book and its tag links, creating tags that do not exist yet."""
        now = utcnow()
        row = {
            **data.model_dump(exclude={"tags"}),
            **derived_columns(data.title, data.description),
            "id": uuid7(),
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        tags = await self.tags_named(data.tags)
        # A missing author fails this insert on the foreign key; errors.py answers 422.
        inserted = await self.session.exec(BOOK_INSERT, params=row)
        name, version = inserted.one()
        links = [{"book_id": row["id"], "tag_id": tag.id} for tag in tags]
        await insert_rows(self.session, BOOK_TAG, links)
        author = BookAuthor(id=data.author_id, name=name, version=version)
        return BookRead.model_validate({**row, "author": author, "tags": tags})

    async def update(self, shown: BookRead, data: BookUpdate) -> BookRead:
        """Apply the fields sent to the book (locked by `get_for_update`); `tags` replaces all."""
        book = await self.locked_row(shown.id)
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
        return BookRead.model_validate(book)

    async def delete(self, shown: BookRead) -> None:
        await self.session.delete(await self.locked_row(shown.id))
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
        found = await self.session.exec(TAGS_NAMED, params={"names": names})
        return list(found.all())

    async def load_author(self, book: Book) -> None:
        """Attach the book's author for the answer, without touching the author's book list."""
        author = await self.session.get(Author, book.author_id)
        set_committed_value(book, "author", author)


NO_BOOK = "No book has this id."
book_repository = on_session(BookRepository)
BookRepositoryDep = Annotated[BookRepository, Depends(book_repository)]
BookDep = Annotated[BookRead, Depends(load_or_404(book_repository, "book_id", NO_BOOK))]
BookToChangeDep = Annotated[BookRead, Depends(load_to_change(book_repository, "book_id", NO_BOOK))]


def listed_book(row: Any, query: BookQuery) -> BookListItem:
    """A list's book, with the highlights of what a search found when they were asked for."""
    author = BookAuthor(id=row.author_id, name=row.author_name, version=row.author_version)
    shown = {**row._mapping, "author": author}
    if query.highlight and (parsed := query.parsed) is not None:
        fields = {
            "title": row.title,
            "author": row.author_name,
            "tags": ", ".join(row.tags),
            "description": row.description,
        }
        shown["highlights"] = highlights(fields, parsed)
    return BookListItem.model_validate(shown)


def book_read(row: Any) -> BookRead:
    """The answer for one row of BOOKS_WITH_TAGS."""
    author = BookAuthor(id=row.author_id, name=row.author_name, version=row.author_version)
    return BookRead.model_validate({**row._mapping, "author": author})
