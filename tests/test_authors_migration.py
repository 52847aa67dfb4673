"""The migration that gives books several authors keeps every book's author, both ways."""

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Uuid, column, insert, table, text
from sqlalchemy.engine import Connection

from tests.conftest import SERVER_URL
from tests.helpers.databases import scratch_database
from tests.search.index_check import index_problems
from tests.test_migrations import inspect_database

# The revision before the one that gives books several authors.
BEFORE = "3f1c9a7d2b64-1"
NOW = datetime.now(UTC)
COMMON = {"created_at": NOW, "updated_at": NOW, "version": 1}
AUTHORS = [uuid.uuid4(), uuid.uuid4()]
BOOKS = [uuid.uuid4(), uuid.uuid4(), uuid.uuid4()]
# Each book's one author before the migration.
WRITTEN_BY = {BOOKS[0]: AUTHORS[0], BOOKS[1]: AUTHORS[1], BOOKS[2]: AUTHORS[0]}


def as_stored(connection: Connection, value: uuid.UUID) -> Any:
    return value.hex if connection.dialect.name == "sqlite" else value


def insert_books(connection: Connection) -> None:
    """Books as Folio kept them before the migration: one `author_id` each."""
    author = table(
        "author",
        column("id", Uuid()),
        column("name"),
        column("name_folded"),
        column("name_search"),
        *map(column, COMMON),
    )
    book = table(
        "book",
        column("id", Uuid()),
        column("title"),
        column("title_folded"),
        column("title_search"),
        column("author_id"),
        *map(column, COMMON),
    )
    for n, author_id in enumerate(AUTHORS):
        connection.execute(
            insert(author).values(
                id=author_id, name=f"A{n}", name_folded=f"a{n}", name_search=f"a{n}", **COMMON
            )
        )
    for n, book_id in enumerate(BOOKS):
        connection.execute(
            insert(book).values(
                id=book_id,
                title=f"B{n}",
                title_folded=f"b{n}",
                title_search=f"b{n}",
                author_id=as_stored(connection, WRITTEN_BY[book_id]),
                **COMMON,
            )
        )
    connection.commit()


def links(connection: Connection) -> set[tuple[str, str, int]]:
    rows = connection.execute(text("SELECT book_id, author_id, position FROM book_author"))
    return {(str(uuid.UUID(str(b))), str(uuid.UUID(str(a))), p) for b, a, p in rows}


def first_authors(connection: Connection) -> dict[str, str]:
    rows = connection.execute(text("SELECT id, author_id FROM book"))
    return {str(uuid.UUID(str(b))): str(uuid.UUID(str(a))) for b, a in rows}


def co_author_the_first_book(connection: Connection) -> None:
    """A second author, placed before the first: the downgrade must keep the one placed first."""
    connection.execute(
        text("UPDATE book_author SET position = 5 WHERE book_id = :book"),
        {"book": as_stored(connection, BOOKS[0])},
    )
    connection.execute(
        text("INSERT INTO book_author (book_id, author_id, position) VALUES (:book, :author, 1)"),
        {"book": as_stored(connection, BOOKS[0]), "author": as_stored(connection, AUTHORS[1])},
    )
    connection.commit()


def test_every_book_keeps_its_author_through_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    expected = {(str(b), str(a), 0) for b, a in WRITTEN_BY.items()}
    with scratch_database(tmp_path, SERVER_URL) as database:
        database.upgrade(BEFORE)
        inspect_database(database.url, insert_books)
        database.upgrade()
        assert inspect_database(database.url, links) == expected
        assert inspect_database(database.url, index_problems) == []
        inspect_database(database.url, co_author_the_first_book)

        database.downgrade(BEFORE)
        kept = {str(b): str(a) for b, a in WRITTEN_BY.items()}
        kept[str(BOOKS[0])] = str(AUTHORS[1])  # placed first by then
        assert inspect_database(database.url, first_authors) == kept

        database.upgrade()
        assert inspect_database(database.url, links) == {(b, a, 0) for b, a in kept.items()}
        assert inspect_database(database.url, index_problems) == []
