"""The NFC migration re-folds existing rows and merges tags spelt two ways."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Uuid, column, insert, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import ColumnClause

from tests.conftest import SERVER_URL
from tests.helpers.databases import scratch_database
from tests.test_migrations import inspect_database

BEFORE_NFC = "2a964525d9fe"
NFC_REVISION = "0b81c0793217"
NOW = datetime.now(UTC)
COMMON = {"created_at": NOW, "updated_at": NOW, "version": 1}


def rows(name: str, *names: str) -> list[dict[str, object]]:
    return [{"id": uuid.uuid4(), "name": each, **COMMON} for each in (name, *names)]


def test_existing_rows_are_refolded_and_tags_merged(tmp_path: Path) -> None:
    author_id, book_ids = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    tags = rows("caf\u00e9", "cafe\u0301")
    tags[1]["created_at"] = NOW.replace(year=NOW.year + 1)

    def insert_rows(connection: Connection) -> None:
        def common() -> list[ColumnClause[object]]:
            return [column("id", Uuid()), *map(column, COMMON)]

        author = table("author", *common(), column("name"), column("name_folded"))
        book = table(
            "book", *common(), column("title"), column("title_folded"), column("author_id", Uuid())
        )
        tag = table("tag", *common(), column("name"))
        book_tag = table("book_tag", column("book_id", Uuid()), column("tag_id", Uuid()))
        decomposed = "E\u0301mile"
        connection.execute(
            insert(author).values(id=author_id, name=decomposed, name_folded="stale", **COMMON)
        )
        for book_id in book_ids:
            connection.execute(
                insert(book).values(
                    id=book_id,
                    title=decomposed,
                    title_folded="stale",
                    author_id=author_id,
                    **COMMON,
                )
            )
        connection.execute(insert(tag), tags)
        links = [(book_ids[0], tags[0]), (book_ids[0], tags[1]), (book_ids[1], tags[1])]
        connection.execute(insert(book_tag), [{"book_id": b, "tag_id": t["id"]} for b, t in links])
        connection.commit()

    def read(connection: Connection) -> tuple[object, ...]:
        name = connection.execute(text("SELECT name_folded FROM author")).scalar_one()
        titles = connection.execute(text("SELECT DISTINCT title_folded FROM book")).scalars()
        tag_rows = connection.execute(text("SELECT name FROM tag")).scalars().all()
        links = connection.execute(text("SELECT count(*) FROM book_tag")).scalar_one()
        return name, list(titles), tag_rows, links

    with scratch_database(tmp_path, SERVER_URL) as database:
        database.upgrade(BEFORE_NFC)
        inspect_database(database.url, insert_rows)
        database.upgrade(NFC_REVISION)
        assert inspect_database(database.url, read) == (
            "\u00e9mile",
            ["\u00e9mile"],
            ["caf\u00e9"],
            2,
        )
        database.downgrade(BEFORE_NFC)
        database.upgrade()
