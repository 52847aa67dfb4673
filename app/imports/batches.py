"""The SQL of one batch of an import: authors by id or name, ISBNs against the catalogue,
the books, tags and row errors written with one executemany statement each, and the books'
tag links in one multi-row INSERT."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import SQLModel, bindparam, col, delete, insert, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.imports.schemas import ImportRow
from app.kit.repository import insert_missing, insert_rows
from app.kit.turns import taking_turns
from app.models import (
    BOOK_TAG,
    Author,
    Book,
    BookTag,
    ImportRowError,
    Tag,
    derived_columns,
    fold,
    utcnow,
    uuid7,
)

UPDATED = (
    "title",
    "title_folded",
    "title_search",
    "isbn",
    "published_year",
    "description",
    "description_search",
    "author_id",
    "updated_at",
)
# Core tables: a batch writes plain rows with executemany, not one ORM object per book.
BOOK = SQLModel.metadata.tables["book"]
BOOK_UPDATE = (
    update(BOOK)
    .where(BOOK.c.id == bindparam("book_id"))
    # Parameters named unlike the columns: SQLAlchemy reserves the column names for itself.
    .values({**{name: bindparam(f"new_{name}") for name in UPDATED}, "version": BOOK.c.version + 1})
)


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
        self.errors.append({"line": line, "loc": loc, "msg": msg, "type": type_})


@dataclass
class Planned:
    """A book the batch will insert or update, with the tags it will carry."""

    values: dict[str, Any]
    tags: list[str]
    existing: bool


class BatchRepository:
    def __init__(
        self, session: AsyncSession, import_id: uuid.UUID, on_duplicate: str, dry_run: bool
    ):
        self.session = session
        self.import_id = import_id
        self.on_duplicate = on_duplicate
        self.dry_run = dry_run

    async def apply(self, rows: list[tuple[int, ImportRow]], outcome: Outcome) -> None:
        """Apply valid rows (line, row); row faults go to `outcome.errors`."""
        authors = await self.authors_for(rows, outcome)
        rows = [(line, row) for line, row in rows if line in authors]
        taken = await self.books_by_isbn([row.isbn for _, row in rows if row.isbn])
        planned: dict[str, Planned] = {}  # by ISBN, or by line for a book without one
        now = utcnow()
        # Each row's search text takes a while (up to milliseconds for a long description).
        async for line, row in taking_turns(rows):
            key = row.isbn or f"line {line}"
            earlier = planned.get(key)
            book_id = earlier.values["id"] if earlier else taken.get(key)
            if book_id is not None:
                if self.on_duplicate == "fail":
                    where = "earlier in the file" if earlier else "in the catalogue"
                    outcome.error(
                        line, "isbn", f"A book with this ISBN is already {where}.", "duplicate_isbn"
                    )
                    continue
                if self.on_duplicate == "skip":
                    outcome.skip(line)
                    continue
                outcome.updated += 1
            else:
                outcome.created += 1
                book_id = uuid7()
            existing = key in taken or (earlier is not None and earlier.existing)
            planned[key] = Planned(
                {
                    "id": book_id,
                    "title": row.title,
                    # Written here: an update around the ORM gets no column default.
                    **derived_columns(row.title, row.description),
                    "isbn": row.isbn,
                    "published_year": row.published_year,
                    "description": row.description,
                    "author_id": authors[line],
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                },
                row.tags,
                existing,
            )
        if not self.dry_run:
            await self.write(list(planned.values()))
        await self.record_errors(outcome)

    async def authors_for(
        self, rows: list[tuple[int, ImportRow]], outcome: Outcome
    ) -> dict[int, uuid.UUID]:
        """Each row's author id by line: its `author_id` if that author exists, else the
        one author with its `author` name, created if there is none."""
        ids = {row.author_id for _, row in rows if row.author_id is not None}
        known: set[uuid.UUID] = set()
        if ids:
            found = await self.session.exec(select(Author.id).where(col(Author.id).in_(ids)))
            known = set(found.all())
        wanted = {fold(row.author) for _, row in rows if row.author and row.author_id not in known}
        named: dict[str, list[uuid.UUID]] = {}
        if wanted:
            statement = select(Author.name_folded, Author.id).where(
                col(Author.name_folded).in_(wanted)
            )
            for name, author_id in (await self.session.exec(statement)).all():
                named.setdefault(name, []).append(author_id)
        created: list[dict[str, Any]] = []
        chosen: dict[int, uuid.UUID] = {}
        now = utcnow()
        for line, row in rows:
            if row.author_id in known:
                chosen[line] = row.author_id
            elif row.author is None:
                outcome.error(line, "author_id", "No author has this id.", "missing_reference")
            elif len(ids_named := named.get(fold(row.author), [])) > 1:
                outcome.error(
                    line,
                    "author",
                    "More than one author has this name; give author_id.",
                    "ambiguous_author",
                )
            elif ids_named:
                chosen[line] = ids_named[0]
            else:
                author_id = uuid7()
                named[fold(row.author)] = [author_id]
                chosen[line] = author_id
                created.append(
                    {
                        "id": author_id,
                        "name": row.author,
                        "name_folded": fold(row.author),
                        "bio": None,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
        if created and not self.dry_run:
            await self.session.exec(insert(Author), params=created)
        return chosen

    async def books_by_isbn(self, isbns: list[str]) -> dict[str, uuid.UUID]:
        if not isbns:
            return {}
        statement = select(Book.isbn, Book.id).where(col(Book.isbn).in_(set(isbns)))
        return {
            isbn: book_id for isbn, book_id in (await self.session.exec(statement)).all() if isbn
        }

    async def write(self, planned: list[Planned]) -> None:
        """Insert the new books and update the existing ones, with their tags.

        On SQLite each tag link written after its book makes the search index write the book's
        row again (a trigger per link). So there the new books' links go first, under
        foreign keys deferred to the commit, and each new book's row is indexed once, with its
        tags. PostgreSQL refreshes the index once per statement and checks keys at once.
        """
        new = [book for book in planned if not book.existing]
        changed = [book for book in planned if book.existing]
        tag_ids = await self.tag_ids(sorted({name for book in planned for name in book.tags}))
        links_first = self.session.get_bind().dialect.name == "sqlite"
        if links_first:
            # SQLite's own setting, which ends with the transaction; SQLModel has no spelling of it.
            connection = await self.session.connection()
            await connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            await self.link(new, tag_ids)
        if new:
            await self.session.exec(insert(BOOK), params=[book.values for book in new])
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
        await self.link(changed if links_first else planned, tag_ids)

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
        links = [
            {"book_id": book.values["id"], "tag_id": tag_ids[name]}
            for book in books
            for name in book.tags
        ]
        await insert_rows(self.session, BOOK_TAG, links)

    async def record_errors(self, outcome: Outcome) -> None:
        if outcome.errors:
            rows = [{**error, "import_id": self.import_id} for error in outcome.errors]
            await self.session.exec(insert(ImportRowError), params=rows)
