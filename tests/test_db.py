"""The database set-up: SQLite pragmas, how transactions begin, and when sessions commit."""

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.config import Settings
from app.db.checks import warn_of_writing_workers
from app.db.engine import SQLITE_SAFE_CONCURRENT_WRITERS
from tests.helpers.databases import SqliteTrace
from tests.helpers.serving import serving

sqlite_only = pytest.mark.sqlite


def sqlite_path(settings: Settings) -> str:
    path = make_url(settings.database_url).database
    assert path is not None
    return path


@sqlite_only
async def test_every_connection_gets_the_server_pragmas(
    fresh_database: Callable[[], Settings],
) -> None:
    settings = fresh_database().model_copy(update={"busy_timeout_ms": 1234})
    async with serving(settings) as (_client, database):
        for engine in (database.read_engine, database.write_engine):
            async with engine.connect() as connection:
                pragma = {
                    name: (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
                    for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
                }
            assert pragma == {
                "journal_mode": "wal",
                "synchronous": 1,  # NORMAL
                "foreign_keys": 1,
                "busy_timeout": 1234,
            }


@sqlite_only
async def test_reader_connections_cannot_write(fresh_database: Callable[[], Settings]) -> None:
    async with serving(fresh_database()) as (_client, database):
        async with database.reads() as session:
            with pytest.raises(OperationalError, match="readonly"):
                await session.exec(text("DELETE FROM author"))  # type: ignore[call-overload]


@sqlite_only
async def test_reader_connections_opened_under_load_are_kept(
    fresh_database: Callable[[], Settings],
) -> None:
    settings = fresh_database().model_copy(update={"pool_size": 2, "pool_max_overflow": 3})
    async with serving(settings) as (_client, database):
        pool: Any = database.read_engine.pool
        connections = [await database.read_engine.connect() for _ in range(5)]
        for connection in connections:
            await connection.close()
        assert pool.checkedin() == 5
        # And no more than that are opened: the sixth waits for one of them.
        held = [await database.read_engine.connect() for _ in range(5)]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(database.read_engine.connect(), timeout=0.2)
        for connection in held:
            await connection.close()


@sqlite_only
async def test_writes_share_one_connection_before_sqlite_3_51_3(
    fresh_database: Callable[[], Settings],
) -> None:
    async with serving(fresh_database()) as (_client, database):
        size = database.write_engine.pool.size()  # type: ignore[attr-defined]
    if sqlite3.sqlite_version_info < SQLITE_SAFE_CONCURRENT_WRITERS:
        assert size == 1
    else:
        assert size == Settings().pool_size


@pytest.mark.parametrize("workers", [1, 3])
def test_several_workers_writing_sqlite_before_3_51_3_are_warned_of_at_start(
    workers: int, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url="sqlite+aiosqlite:///./folio.db", workers=workers)
    with caplog.at_level(logging.WARNING, logger="app.db.checks"):
        warn_of_writing_workers(settings)
    unsafe = sqlite3.sqlite_version_info < SQLITE_SAFE_CONCURRENT_WRITERS
    assert ("WAL-reset bug" in caplog.text) == (workers > 1 and unsafe)


@sqlite_only
async def test_writes_begin_immediate_and_reads_begin_deferred(
    fresh_database: Callable[[], Settings], sqlite_ran: SqliteTrace
) -> None:
    # The driver sends BEGIN with the first statement.
    async with serving(fresh_database()) as (client, _database):
        assert (await client.post("/authors", json={"name": "Writer"})).status_code == 201
        assert (await client.get("/authors")).status_code == 200
    readers = [ran for ran in sqlite_ran.by_connection if "PRAGMA query_only = ON" in ran]
    writers = [ran for ran in sqlite_ran.by_connection if "PRAGMA query_only = ON" not in ran]
    assert readers
    assert writers
    for ran in writers:
        statements = [statement for statement in ran if not statement.startswith("PRAGMA")]
        assert statements[0] == "BEGIN IMMEDIATE", statements
    # A key check is a read alone, in no transaction (app/sqlite_driver.py): the first
    # request's, and the second's unless the key cache still holds the key (for a second);
    # the list's own statements follow a deferred BEGIN.
    read = [statement for ran in readers for statement in ran if not statement.startswith("PRAGMA")]
    key_checks = [statement for statement in read if statement.startswith("SELECT api_key.")]
    listed = [statement for statement in read if statement not in key_checks]
    assert 1 <= len(key_checks) <= 2, read
    assert read[0] in key_checks, read
    assert listed[0] == "BEGIN", read
    assert listed[-1] == "COMMIT", read
    assert not any("IMMEDIATE" in statement for statement in read)


@sqlite_only
async def test_a_book_is_read_in_one_statement_outside_any_transaction(
    fresh_database: Callable[[], Settings], sqlite_ran: SqliteTrace
) -> None:
    async with serving(fresh_database()) as (client, _database):
        author = (await client.post("/authors", json={"name": "Reader"})).json()
        body = {"title": "Alone", "author_id": author["id"], "tags": ["b", "a"]}
        book = (await client.post("/books", json=body)).json()
        sqlite_ran.clear()
        answer = await client.get(f"/books/{book['id']}")
    assert answer.status_code == 200
    assert answer.json()["tags"] == ["a", "b"]
    ran = [
        statement
        for statement in sqlite_ran.all()
        if not statement.startswith(("PRAGMA", "SELECT api_key."))
    ]
    assert len(ran) == 1, ran
    assert ran[0].startswith("SELECT book.id"), ran


@sqlite_only
async def test_reads_go_on_while_another_process_holds_the_write_lock(
    fresh_database: Callable[[], Settings],
) -> None:
    settings = fresh_database().model_copy(update={"busy_timeout_ms": 100})
    async with serving(settings) as (client, _database):
        author = (await client.post("/authors", json={"name": "Held"})).json()
        other = sqlite3.connect(sqlite_path(settings), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            read = await client.get(f"/authors/{author['id']}")
            listed = await client.get("/authors")
            write = await client.post("/authors", json={"name": "Blocked"})
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert read.status_code == 200
        assert listed.json()["meta"]["total"] == 1
        # A write that cannot get the lock within the busy timeout is told to retry.
        assert write.status_code == 503
        assert write.headers["retry-after"] == "1"
        assert write.headers["content-type"] == "application/problem+json"
        assert (await client.get("/authors")).json()["meta"]["total"] == 1


async def test_a_failed_commit_is_an_error_answer_and_stores_nothing(
    fresh_database: Callable[[], Settings],
) -> None:
    async with serving(fresh_database()) as (client, database):

        def fail_commit(_connection: Any) -> None:
            raise OperationalError("COMMIT", {}, Exception("database is locked"))

        event.listen(database.write_engine.sync_engine, "commit", fail_commit)
        answer = await client.post("/authors", json={"name": "Never stored"})
        event.remove(database.write_engine.sync_engine, "commit", fail_commit)

        assert answer.status_code == 503
        assert answer.json()["status"] == 503
        assert (await client.get("/authors")).json()["meta"]["total"] == 0
        assert database.write_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@sqlite_only
async def test_a_request_abandoned_mid_flight_returns_its_connection(
    fresh_database: Callable[[], Settings],
) -> None:
    settings = fresh_database().model_copy(update={"busy_timeout_ms": 1000})
    async with serving(settings) as (client, database):
        other = sqlite3.connect(sqlite_path(settings), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        # The write waits for the lock inside its transaction; the client gives up on it.
        pending = asyncio.create_task(client.post("/authors", json={"name": "Abandoned"}))
        await asyncio.sleep(0.2)
        assert database.write_engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        other.execute("ROLLBACK")
        other.close()

        assert database.write_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert (await client.get("/authors")).json()["meta"]["total"] == 0
        assert (await client.post("/authors", json={"name": "Next"})).status_code == 201
