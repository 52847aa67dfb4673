"""How an import's batches reach the database: checked one batch ahead of the write, new rows
loaded in bulk (on PostgreSQL with COPY), and the new books linked before they are inserted."""

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.imports.checking import checked_batches
from app.imports.formats import by_name
from app.imports.formats.fields import Reading
from app.imports.loading import load_rows
from app.imports.reader import Record
from app.models import BOOK, BOOK_TAG, derived_columns, utcnow, uuid7
from tests.helpers.catalogue import ISBNS
from tests.helpers.imports import imported, ndjson, served


async def test_imported_books_are_found_by_their_authors_and_tags(
    fresh_database: Callable[[], Settings],
) -> None:
    # Their links go in before them: the search index must still see every author and tag.
    async with served(fresh_database, import_batch_rows=2) as (client, database, settings):
        body = ndjson(
            {"title": "Ancillary Justice", "author": "Ann Leckie", "tags": ["Space Opera"]},
            {"title": "Germinal", "author": "Émile Zola", "tags": ["naturalism", "mines"]},
            {"title": "Provenance", "author": "Ann Leckie"},
        )
        job = await imported(client, database, settings, body)
        assert job["rows_created"] == 3
        for words, titles in (
            ("leckie", ["Ancillary Justice", "Provenance"]),
            ("opera", ["Ancillary Justice"]),
            ("zola mines", ["Germinal"]),
        ):
            response = await client.get("/books", params={"search": words, "sort": "title"})
            assert response.status_code == 200, response.text
            assert [book["title"] for book in response.json()["items"]] == titles


async def test_the_links_keys_to_books_are_deferrable(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (_client, database, _settings):
        async with database.write_engine.connect() as connection:
            keys = await connection.run_sync(
                lambda sync: {
                    table: [
                        key["options"]
                        for key in inspect(sync).get_foreign_keys(table)
                        if key["referred_table"] == "book"
                    ]
                    for table in ("book_author", "book_tag")
                }
            )
    for options in keys.values():
        [found] = options
        # Checked at once unless a transaction defers them (PostgreSQL leaves IMMEDIATE unsaid).
        assert found["deferrable"] is True
        assert found.get("initially", "IMMEDIATE") == "IMMEDIATE"
        assert found["ondelete"] == "CASCADE"


def book_row(isbn: str) -> dict[str, object]:
    now = utcnow()
    return {
        "id": uuid7(),
        "title": "Loaded",
        "isbn": isbn,
        **derived_columns("Loaded", None, None, None),
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


async def test_loaded_rows_that_break_a_key_raise_integrity_error(
    fresh_database: Callable[[], Settings],
) -> None:
    # The runner applies a batch that lost a race again only on IntegrityError, COPY included.
    async with served(fresh_database) as (_client, database, _settings):
        async with database.writes() as session, session.begin():
            await load_rows(session, BOOK, [book_row(ISBNS[0]), book_row(ISBNS[1])])
        with pytest.raises(IntegrityError):
            async with database.writes() as session, session.begin():
                await load_rows(session, BOOK, [book_row(ISBNS[2]), book_row(ISBNS[0])])
        with pytest.raises(IntegrityError):
            async with database.writes() as session, session.begin():
                await load_rows(session, BOOK_TAG, [{"book_id": uuid7(), "tag_id": uuid7()}])
        async with database.reads() as session, session.begin():
            connection = await session.connection()
            found = await connection.exec_driver_sql("SELECT isbn FROM book ORDER BY isbn")
            assert found.scalars().all() == sorted(ISBNS[:2])


class Counted:
    """Records of a file of `rows` NDJSON lines, counting how many have been read."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[Record]:
        offset = 0
        for line in range(1, self.rows + 1):
            text = ndjson({"title": f"Book {line}", "author": "Ann"}).decode()
            self.read += 1
            yield Record(line, text.rstrip("\n"), offset + len(text), line)
            offset += len(text)


async def test_the_next_batch_is_read_and_checked_while_this_one_is_written() -> None:
    file_format = by_name("ndjson")
    plan = file_format.plan(Reading(), None)
    counted = Counted(10)
    batches = checked_batches(aiter(counted), file_format, plan, size=4)
    batch, checked = await anext(batches)
    assert [record.line for record in batch] == [1, 2, 3, 4]
    assert [line for line, _row in checked.rows] == [1, 2, 3, 4]
    assert checked.derived[1]["title_search"] == "book 1"
    await asyncio.sleep(0.05)  # the caller writing batch 1
    assert counted.read == 8
    batch, _checked = await anext(batches)
    assert [record.line for record in batch] == [5, 6, 7, 8]
    await batches.aclose()
    await asyncio.sleep(0.05)
    assert counted.read == 8  # closed: nothing more is read


@pytest.mark.postgres
async def test_postgresql_plans_an_import_with_statistics_of_the_rows_it_wrote(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database, import_batch_rows=2) as (client, database, settings):
        body = ndjson(*({"title": f"Book {n}", "author": f"Author {n}"} for n in range(5)))
        job = await imported(client, database, settings, body)
        assert job["rows_created"] == 5
        async with database.reads() as session, session.begin():
            connection = await session.connection()
            found = await connection.exec_driver_sql(
                "SELECT relname, reltuples FROM pg_class"
                " WHERE relname IN ('author', 'book', 'book_author', 'book_tag', 'search_word',"
                " 'search_vocabulary')"
            )
            counted = {row["relname"]: row["reltuples"] for row in found.mappings()}
    # Analysed after the first batch and when the rows written doubled: after 2 and 4 rows.
    # The search index then held two title words and two author words for each book, two
    # name words for each author, and six words in all: book, author, 0, 1, 2 and 3.
    assert counted == {
        "author": 4,
        "book": 4,
        "book_author": 4,
        "book_tag": 0,
        "search_word": 24,
        "search_vocabulary": 6,
    }


class Failing(Counted):
    """Records that fail to be read after the first `rows`."""

    async def __aiter__(self) -> AsyncIterator[Record]:
        async for record in super().__aiter__():
            yield record
        raise OSError("the file went away")


async def test_a_failure_reading_ahead_goes_to_whoever_asks_for_that_batch() -> None:
    file_format = by_name("ndjson")
    plan = file_format.plan(Reading(), None)
    batches = checked_batches(aiter(Failing(5)), file_format, plan, size=4)
    batch, _checked = await anext(batches)
    assert len(batch) == 4
    await asyncio.sleep(0.05)  # the batch ahead has failed meanwhile
    await batches.aclose()  # a run that stops here reports nothing of it
    batches = checked_batches(aiter(Failing(5)), file_format, plan, size=4)
    await anext(batches)
    with pytest.raises(OSError, match="went away"):
        await anext(batches)
