"""The SQL of one batch of an import: authors by id or name, duplicates against the catalogue
(by ISBN, or for a book without one by its title, authors and year), the books, authors, tags
and row errors written with one statement each (on PostgreSQL, `COPY` for new rows), the new
books' links before the books."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal, tuple_
from sqlmodel import bindparam, col, delete, insert, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.imports.authors import AuthorResolver, Known
from app.imports.loading import load_rows
from app.imports.schemas import ImportRow
from app.kit.quoting import MESSAGE_CHARACTERS, shortened
from app.kit.repository import insert_missing, joined_text
from app.kit.turns import taking_turns
from app.models import (
    BOOK,
    BOOK_AUTHOR,
    BOOK_TAG,
    Author,
    Book,
    BookAuthor,
    BookTag,
    ImportRowError,
    Tag,
    utcnow,
    uuid7,
)
from app.search.text import search_text

# The columns an import writes (and, for a book it updates, writes again).
FIELDS = ("title", "isbn", "published_year", "description", "publisher", "language", "series")
UPDATED = (
    *FIELDS,
    "series_position",
    "title_folded",
    "title_search",
    "description_search",
    "publisher_folded",
    "series_folded",
    "series_search",
    "updated_at",
)
# A batch writes plain rows through Core, not one ORM object per book.
BOOK_UPDATE = (
    update(BOOK)
    .where(BOOK.c.id == bindparam("book_id"))
    # Parameters named unlike the columns: SQLAlchemy reserves the column names for itself.
    .values({**{name: bindparam(f"new_{name}") for name in UPDATED}, "version": BOOK.c.version + 1})
)
# The keys from the link tables to `book`, deferrable so that a batch may link books first.
LINK_KEYS = ("fk_book_author_book_id_book", "fk_book_tag_book_id_book")
# A year no book has, standing for "no year" where keys are compared with `=`.
NO_YEAR = -(2**31)
# A book's identity without an ISBN: its title, its authors' names in order (as search folds
# them) and its year.
AUTHOR_WORDS = joined_text(
    Author.name_search,
    where=[col(BookAuthor.book_id) == Book.id, col(Author.id) == BookAuthor.author_id],
    order_by=[col(BookAuthor.position)],
    outer=Book,
    separator="|",
)

Identity = tuple[str, int, str]


@dataclass
class Outcome:
    """What a batch did, row by row."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    skipped_lines: list[int] = field(default_factory=list)

    def skip(self, line: int) -> None:
        self.skipped += 1
        self.skipped_lines.append(line)

    def error(self, line: int, loc: str | None, msg: str, type_: str) -> None:
        # `loc` may be a key the file made up, and `msg` may quote the row.
        loc = None if loc is None else shortened(loc)
        msg = shortened(msg, MESSAGE_CHARACTERS)
        self.errors.append({"line": line, "loc": loc, "msg": msg, "type": type_})


@dataclass
class Planned:
    """A book the batch will insert or update, with the authors and tags it will carry."""

    values: dict[str, Any]
    authors: list[uuid.UUID]
    tags: list[str]
    existing: bool


def identity(row: ImportRow, authors: list[Known]) -> Identity:
    """What makes a book without an ISBN the same book: title, authors and year, folded."""
    year = NO_YEAR if row.published_year is None else row.published_year
    return (search_text(row.title), year, "|".join(author.words for author in authors))


def key_of(row: ImportRow, authors: list[Known]) -> tuple[str, Any]:
    """The key under which a row's book is a duplicate of another: its ISBN, else its identity."""
    return ("isbn", row.isbn) if row.isbn else ("identity", identity(row, authors))


class BatchRepository:
    def __init__(
        self, session: AsyncSession, import_id: uuid.UUID, on_duplicate: str, dry_run: bool
    ):
        self.session = session
        self.import_id = import_id
        self.on_duplicate = on_duplicate
        self.dry_run = dry_run

    async def apply(
        self,
        rows: list[tuple[int, ImportRow]],
        outcome: Outcome,
        derived: dict[int, dict[str, Any]],
    ) -> None:
        """Apply valid rows (line, row), each with its `derived_columns` by line; row faults go
        to `outcome.errors`."""
        resolved = await AuthorResolver(self.session, self.dry_run).resolve(rows)
        ready: list[tuple[int, ImportRow, list[Known]]] = []
        for line, row in rows:
            found = resolved[line]
            if isinstance(found, tuple):
                outcome.error(line, *found)
            else:
                ready.append((line, row, found))
        keys = {line: key_of(row, authors) for line, row, authors in ready}
        taken = await self.books_taken(list(keys.values()))
        planned: dict[tuple[str, Any], Planned] = {}
        now = utcnow()
        # Each row's search text takes a while (up to milliseconds for a long description).
        async for line, row, authors in taking_turns(ready):
            key = keys[line]
            earlier = planned.get(key)
            book_id = earlier.values["id"] if earlier else taken.get(key)
            if book_id is not None:
                if self.on_duplicate == "fail":
                    outcome.error(line, *duplicate(key, earlier is not None))
                    continue
                if self.on_duplicate == "skip":
                    outcome.skip(line)
                    continue
                outcome.updated += 1
            else:
                outcome.created += 1
                book_id = uuid7()
            planned[key] = Planned(
                {
                    **row.model_dump(include=set(FIELDS) | {"series_position"}),
                    # Written here: an update around the ORM gets no column default.
                    **derived[line],
                    "id": book_id,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                },
                [author.id for author in authors],
                row.tags,
                key in taken or (earlier is not None and earlier.existing),
            )
        if not self.dry_run:
            await self.write(list(planned.values()))
        await self.record_errors(outcome)

    async def books_taken(self, keys: list[tuple[str, Any]]) -> dict[tuple[str, Any], uuid.UUID]:
        """The books of the catalogue that these keys name: by ISBN, or by identity."""
        taken: dict[tuple[str, Any], uuid.UUID] = {}
        isbns = {value for kind, value in keys if kind == "isbn"}
        if isbns:
            by_isbn = select(Book.isbn, Book.id).where(col(Book.isbn).in_(isbns))
            for isbn, book_id in (await self.session.exec(by_isbn)).all():
                taken[("isbn", isbn)] = book_id
        identities = [value for kind, value in keys if kind == "identity"]
        if identities:
            dialect = self.session.get_bind().dialect.name
            year = func.coalesce(Book.published_year, literal(NO_YEAR))
            words = AUTHOR_WORDS[dialect]
            by_identity = select(Book.id, Book.title_search, year, words).where(
                col(Book.isbn).is_(None),
                col(Book.title_search).in_({title for title, _, _ in identities}),
                tuple_(Book.title_search, year, words).in_(identities),
            )
            for book_id, title, found_year, names in (await self.session.exec(by_identity)).all():
                taken[("identity", (title, found_year, names))] = book_id
        return taken

    async def write(self, planned: list[Planned]) -> None:
        """Insert the new books and update the existing ones, with their authors and tags.

        Each link written after its book makes the search index's triggers write the book's
        entry again (SQLite once per link, PostgreSQL once per table of links). So the new
        books' links go first, with their keys to `book` checked at the commit, and each new
        book is indexed once, with its authors and tags.
        """
        new = [book for book in planned if not book.existing]
        changed = [book for book in planned if book.existing]
        tag_ids = await self.tag_ids(sorted({name for book in planned for name in book.tags}))
        connection = await self.session.connection()
        if self.session.get_bind().dialect.name == "sqlite":
            # SQLite's own setting, which ends with the transaction; SQLModel has no spelling of it.
            await connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        else:
            await connection.exec_driver_sql(f"SET CONSTRAINTS {', '.join(LINK_KEYS)} DEFERRED")
        await self.link(new, tag_ids)
        await load_rows(self.session, BOOK, [book.values for book in new])
        if changed:
            params = [
                {
                    "book_id": book.values["id"],
                    **{f"new_{name}": book.values[name] for name in UPDATED},
                }
                for book in changed
            ]
            await self.session.exec(BOOK_UPDATE, params=params)
            ids = [book.values["id"] for book in changed]
            await self.session.exec(delete(BookTag).where(col(BookTag.book_id).in_(ids)))
            await self.session.exec(delete(BookAuthor).where(col(BookAuthor.book_id).in_(ids)))
            await self.link(changed, tag_ids)

    async def tag_ids(self, names: list[str]) -> dict[str, uuid.UUID]:
        """The ids of the tags with these names, made where they are new."""
        if not names:
            return {}
        now = utcnow()
        rows = [
            {"id": uuid7(), "name": name, "created_at": now, "updated_at": now, "version": 1}
            for name in names
        ]
        await insert_missing(self.session, Tag, rows, key="name")
        found = await self.session.exec(select(Tag.name, Tag.id).where(col(Tag.name).in_(names)))
        return dict(found.all())

    async def link(self, books: list[Planned], tag_ids: dict[str, uuid.UUID]) -> None:
        """Link the books to their authors, in order, and to their tags."""
        authors = [
            {"book_id": book.values["id"], "author_id": author_id, "position": position}
            for book in books
            for position, author_id in enumerate(book.authors)
        ]
        await load_rows(self.session, BOOK_AUTHOR, authors)
        tags = [
            {"book_id": book.values["id"], "tag_id": tag_ids[name]}
            for book in books
            for name in book.tags
        ]
        await load_rows(self.session, BOOK_TAG, tags)

    async def record_errors(self, outcome: Outcome) -> None:
        if outcome.errors:
            rows = [{**error, "import_id": self.import_id} for error in outcome.errors]
            await self.session.exec(insert(ImportRowError), params=rows)


def duplicate(key: tuple[str, Any], earlier: bool) -> tuple[str, str, str]:
    """The row error of a duplicate: its loc, message and type."""
    where = "earlier in the file" if earlier else "in the catalogue"
    if key[0] == "isbn":
        return "isbn", f"A book with this ISBN is already {where}.", "duplicate_isbn"
    message = f"A book with this title, these authors and this year is already {where}."
    return "title", message, "duplicate_book"
