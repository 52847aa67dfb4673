import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends

# SQLModel's select() takes at most four columns, and its exec() is typed for no more; a book
# row has sixteen.
from sqlalchemy import bindparam, literal, union_all
from sqlalchemy import select as select_columns
from sqlalchemy.orm import selectinload
from sqlmodel import col, delete, insert, select

from app.books.schemas import AuthorRef, BookCreate, BookListItem, BookQuery, BookRead, BookUpdate
from app.db.session import on_session
from app.db.sqlite_driver import ALONE, LATER
from app.kit.errors import Unprocessable
from app.kit.loaders import load_or_404, load_to_change
from app.kit.pagination import Slice
from app.kit.repository import Repository, insert_missing, insert_rows, json_list, relation
from app.models import (
    AUTHOR,
    BOOK,
    BOOK_AUTHOR,
    BOOK_TAG,
    TAG,
    Author,
    Book,
    BookAuthor,
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

# What an ORM-loaded book answer shows: its authors and its tags (one query each).
WITH_AUTHORS_AND_TAGS = (selectinload(relation(Book.authors)), selectinload(relation(Book.tags)))
# Reads select plain columns: building and tracking ORM objects for a page cost several
# times more than its queries (3.8 ms against 1.3 ms for 20 books with tags, measured).
BOOK_COLUMNS: tuple[Any, ...] = (
    Book.id,
    Book.title,
    Book.isbn,
    Book.published_year,
    Book.description,
    Book.publisher,
    Book.language,
    Book.series,
    Book.series_position,
    Book.created_at,
    Book.updated_at,
    Book.version,
)
# A book's authors in order, and its tag names in order, each as one value of its row.
AUTHOR_LIST = json_list(
    {"id": Author.id, "name": Author.name, "version": Author.version},
    where=[col(BookAuthor.book_id) == Book.id, col(Author.id) == BookAuthor.author_id],
    order_by=[col(BookAuthor.position)],
    outer=Book,
    objects=True,
)
TAG_LIST = json_list(
    {"name": Tag.name},
    where=[col(BookTag.book_id) == Book.id, col(Tag.id) == BookTag.tag_id],
    order_by=[col(Tag.name)],
    outer=Book,
    objects=False,
)
# The statements a read runs whatever it asks for are built once, with their values bound at
# execution: building a select and its cache key took longer than running it. A page's books
# come with their authors and tags in the page's own statement. Where an index gives the
# page's order, only the rows the page keeps are read; where the rows must be sorted first,
# SQLite computes the lists of every row it sorts (a search limits its matches before that:
# see Ranked in app/search/sql.py).
BOOKS = {
    dialect: select_columns(
        *BOOK_COLUMNS, AUTHOR_LIST[dialect].label("authors"), tags.label("tags")
    )
    for dialect, tags in TAG_LIST.items()
}
# A get is one statement: the book, its authors and its tags. Alone in its transaction, it
# needs neither BEGIN nor COMMIT on SQLite (see app/db/sqlite_driver.py).
BOOK_BY_ID = {
    dialect: books.where(col(Book.id) == bindparam("book_id")).execution_options(**{ALONE: True})
    for dialect, books in BOOKS.items()
}
# A create writes rows through Core, not ORM objects: the unit of work's flush took more CPU
# than the rest of the request (2.8 of 8.6 ms, measured).
# On SQLite it waits for the create's commit and goes in its round trip (app/db/sqlite_driver.py).
BOOK_INSERT = insert(BOOK).execution_options(**{LATER: True})
# A book's authors by id and its tags by name, as Core rows: in one statement, since a write
# holds SQLite's one write connection from its first statement to its commit.
# On PostgreSQL the authors are locked FOR KEY SHARE (the lock their links' foreign keys take
# anyway) in that first statement, before any new tag exists: a write that waits for an
# author's cascade delete then holds nothing that an edit of one of the author's books may
# want, which the delete waits for. Otherwise the three wait in a circle and PostgreSQL ends
# one as a deadlock. A subquery carries the lock: PostgreSQL takes none in a UNION.
LISTED_AUTHORS = (
    select_columns(AUTHOR.c.id, AUTHOR.c.name, AUTHOR.c.version)
    .where(AUTHOR.c.id.in_(bindparam("ids", expanding=True)))
    .with_for_update(read=True, key_share=True)
    .subquery("listed")
)
AUTHORS_BY_ID = select_columns(
    literal(AUTHOR.name).label("kind"),
    LISTED_AUTHORS.c.id,
    LISTED_AUTHORS.c.name,
    LISTED_AUTHORS.c.version,
)
TAGS_NAMED = select_columns(
    literal(TAG.name).label("kind"), TAG.c.id, TAG.c.name, literal(0).label("version")
).where(TAG.c.name.in_(bindparam("names", expanding=True)))
AUTHORS_AND_TAGS = union_all(AUTHORS_BY_ID, TAGS_NAMED)
NO_AUTHOR = "No author has this id."


def book_filters(query: BookQuery, dialect: str) -> list[Any]:
    """The WHERE terms of the query's filters."""
    filters: list[Any] = []
    if query.author_id is not None:
        written = select(BookAuthor.book_id).where(BookAuthor.author_id == query.author_id)
        filters.append(col(Book.id).in_(written))
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
    if query.publisher is not None:
        filters.append(Book.publisher_folded == fold(query.publisher))
    if query.language is not None:
        filters.append(Book.language == query.language)
    if query.series is not None:
        filters.append(Book.series_folded == fold(query.series))
    return filters


class BookRepository(Repository[Book]):
    model = Book
    loads = WITH_AUTHORS_AND_TAGS

    async def page(self, query: BookQuery) -> Slice[BookListItem]:
        """One page of books with their authors and tags, best match first when searching."""
        dialect = self.session.get_bind().dialect.name
        parsed = query.parsed
        typos = await query.match_typos(self.session)
        match = None if parsed is None else book_match(parsed, typos, Book.id)
        search = Ranked(BOOKS[dialect], match, Book.id)
        found = await search.page(self.session, query, book_filters(query, dialect), Book)
        typo_words = set() if match is None else match.typos
        return found.with_items([listed_book(row, query, typo_words) for row in found.items])

    async def get(self, book_id: uuid.UUID) -> BookRead | None:
        """The book as shown, or None, in one statement."""
        statement = BOOK_BY_ID[self.session.get_bind().dialect.name]
        found = await self.session.exec(statement, params={"book_id": book_id})  # type: ignore[call-overload]
        row = found.one_or_none()
        return None if row is None else BookRead.model_validate(row._asdict())

    async def get_for_update(self, book_id: uuid.UUID) -> BookRead | None:
        """The book as shown, locked for the rest of the transaction where the database can."""
        book = await self.lock(book_id)
        return None if book is None else BookRead.model_validate(book)

    async def create(self, data: BookCreate) -> BookRead:
        """Insert the book with its author and tag links, creating tags that do not exist yet.

        The row is built before the first statement: from that statement to the commit, the
        request holds SQLite's one write connection, and every other write waits for it.
        """
        now = utcnow()
        fields = data.model_dump(exclude={"author_ids", "author_id", "tags"})
        row = {
            **fields,
            **derived_columns(data.title, data.description, data.publisher, data.series),
            "id": uuid7(),
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        found = await self.session.exec(  # type: ignore[call-overload]
            AUTHORS_AND_TAGS, params={"ids": data.listed_authors, "names": data.tags}
        )
        named = found.all()
        authors = in_order(
            [author for author in named if author.kind == AUTHOR.name],
            data.listed_authors,
            "author_ids" in data.model_fields_set,
        )
        tags = {tag.name: tag.id for tag in named if tag.kind == TAG.name}
        tag_ids = await self.tag_ids(data.tags, tags)
        await self.session.exec(BOOK_INSERT, params=row)
        await self.link_authors(row["id"], data.listed_authors)
        await self.link_tags(row["id"], tag_ids)
        return BookRead.model_validate({**row, "authors": authors, "tags": data.tags})

    async def update(self, shown: BookRead, data: BookUpdate) -> BookRead:
        """Apply the fields sent to the book (locked by `get_for_update`); `author_ids` and
        `tags` replace the whole list, and clearing the series clears the position."""
        book = await self.locked_row(shown.id)
        changes = data.model_dump(exclude_unset=True, exclude={"author_ids", "author_id", "tags"})
        if "series" in changes and changes["series"] is None:
            changes["series_position"] = None
        if (
            changes.get("series_position") is not None
            and changes.get("series", book.series) is None
        ):
            raise Unprocessable.at(
                ["body", "series_position"],
                "A place in a series needs the series.",
                "series_missing",
            )
        # Without this the queries below would flush the changed fields first, and the flush
        # after touch() would then count the same update twice in `version`.
        with self.session.no_autoflush:
            book.sqlmodel_update(changes)
            if (authors := data.listed_authors) is not None:
                await self.authors_named(authors, "author_ids" in data.model_fields_set)
                await self.session.exec(
                    delete(BookAuthor).where(col(BookAuthor.book_id) == book.id)
                )
                await self.link_authors(book.id, authors)
            if "tags" in data.model_fields_set:
                tag_ids = await self.tag_ids(data.tags or [])
                await self.session.exec(delete(BookTag).where(col(BookTag.book_id) == book.id))
                await self.link_tags(book.id, tag_ids)
        book.touch()
        await self.session.flush()
        changed = await self.get(book.id)
        assert changed is not None, "the book is locked until the transaction ends"
        return changed

    async def delete(self, shown: BookRead) -> None:
        await self.session.delete(await self.locked_row(shown.id))
        await self.session.flush()

    async def authors_named(self, ids: list[uuid.UUID], as_list: bool) -> list[AuthorRef]:
        """The authors with these ids, in this order; a 422 naming the first that does not
        exist, at `author_ids` (or `author_id`, as v1 sent the one author)."""
        found = await self.session.exec(AUTHORS_BY_ID, params={"ids": ids})  # type: ignore[call-overload]
        return in_order(found.all(), ids, as_list)

    async def link_authors(self, book_id: uuid.UUID, authors: list[uuid.UUID]) -> None:
        """Link the book to its authors, in order."""
        links = [
            {"book_id": book_id, "author_id": author_id, "position": position}
            for position, author_id in enumerate(authors)
        ]
        await insert_rows(self.session, BOOK_AUTHOR, links)

    async def link_tags(self, book_id: uuid.UUID, tag_ids: list[uuid.UUID]) -> None:
        links = [{"book_id": book_id, "tag_id": tag_id} for tag_id in tag_ids]
        await insert_rows(self.session, BOOK_TAG, links)

    async def tag_ids(
        self, names: list[str], existing: dict[str, uuid.UUID] | None = None
    ) -> list[uuid.UUID]:
        """The ids of the tags with these names (those of `existing` already read), creating
        the missing tags.

        Most tags exist already, so they are read first: one statement, not an insert and a
        read, while the write holds SQLite's one write connection. Only names and ids are
        read, as rows: tags as ORM objects cost more CPU than the rest of the read.
        """
        if not names:
            return []
        ids = await self.existing_tags(names) if existing is None else existing
        missing = set(names) - set(ids)
        if not missing:
            return list(ids.values())
        now = utcnow()
        rows = [
            {"id": uuid7(), "name": name, "created_at": now, "updated_at": now, "version": 1}
            for name in sorted(missing)
        ]
        await insert_missing(self.session, Tag, rows, key="name")
        return list((await self.existing_tags(names)).values())

    async def existing_tags(self, names: list[str]) -> dict[str, uuid.UUID]:
        found = await self.session.exec(TAGS_NAMED, params={"names": names})  # type: ignore[call-overload]
        return {row.name: row.id for row in found}


book_repository = on_session(BookRepository)
BookRepositoryDep = Annotated[BookRepository, Depends(book_repository)]
NO_BOOK = "No book has this id."
BookDep = Annotated[BookRead, Depends(load_or_404(book_repository, "book_id", NO_BOOK))]
BookToChangeDep = Annotated[BookRead, Depends(load_to_change(book_repository, "book_id", NO_BOOK))]


def in_order(found: Sequence[Any], ids: list[uuid.UUID], as_list: bool) -> list[AuthorRef]:
    """The authors found, in the order of `ids`; a 422 naming the first that was not found,
    at `author_ids` (or `author_id`, as v1 sent the one author)."""
    authors = {row.id: AuthorRef.model_validate(row._asdict()) for row in found}
    for index, author_id in enumerate(ids):
        if author_id not in authors:
            loc: list[str | int] = (
                ["body", "author_ids", index] if as_list else ["body", "author_id"]
            )
            raise Unprocessable.at(loc, NO_AUTHOR, "missing_reference")
    return [authors[author_id] for author_id in ids]


def listed_book(row: Any, query: BookQuery, typos: set[str]) -> BookListItem:
    """A list's book, with the highlights of what a search found when they were asked for."""
    # Rows are validated as dicts: pydantic reads a row's mapping through Python calls, one
    # per field (a list page took 3% more CPU that way).
    book = BookListItem.model_validate(row._asdict())
    if query.highlight and (parsed := query.parsed) is not None:
        fields = {
            "title": book.title,
            "author": book.author.name,
            "authors": ", ".join(author.name for author in book.authors),
            "series": book.series,
            "tags": ", ".join(book.tags),
            "description": book.description,
        }
        book.highlights = highlights(fields, parsed, typos)
    return book
