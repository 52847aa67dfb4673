"""Writes on PostgreSQL take their locks in an order that a cascade delete cannot close into
a deadlock, which PostgreSQL would break by failing one of them (a 503)."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.config import Settings
from tests.helpers.serving import serving

pytestmark = pytest.mark.postgres

WAITING = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock'"
)


@asynccontextmanager
async def holder_and_watcher(url: str) -> AsyncIterator[tuple[AsyncConnection, AsyncConnection]]:
    """A connection that takes locks as another writer would, and one that counts the sessions
    waiting for a lock, each look in a transaction of its own (a transaction sees one snapshot
    of pg_stat_activity)."""
    holder = create_async_engine(url)
    watcher = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with holder.connect() as hold, watcher.connect() as watch:
            yield hold, watch
    finally:
        await holder.dispose()
        await watcher.dispose()


async def wait_for_waiters(connection: AsyncConnection, count: int) -> None:
    """Return once `count` sessions of the database wait for a lock."""
    for _ in range(200):
        if (await connection.execute(WAITING)).scalar_one() >= count:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{count} sessions never waited for a lock")


async def test_a_create_waits_for_its_authors_delete_before_it_creates_tags(
    fresh_database: Callable[[], Settings],
) -> None:
    """The cycle a burst of writes once met: an edit holds a book and wants a tag; the cascade
    delete of the book's author holds the author and wants the book; a create for that author
    must not hold the new tag while it waits for the author."""
    settings = fresh_database()
    async with serving(settings) as (client, _database):
        author = (await client.post("/authors", json={"name": "Leaving"})).json()
        book = await client.post("/books", json={"title": "Held", "author_id": author["id"]})
        async with holder_and_watcher(settings.database_url) as (edit, watch):
            # An edit of the book, paused between its lock and its new tag.
            await edit.execute(
                text("SELECT id FROM book WHERE id = :id FOR NO KEY UPDATE"),
                {"id": book.json()["id"]},
            )
            delete = asyncio.create_task(
                client.delete(f"/authors/{author['id']}", params={"cascade": "true"})
            )
            await wait_for_waiters(watch, 1)
            create = asyncio.create_task(
                client.post(
                    "/books",
                    json={"title": "Late", "author_id": author["id"], "tags": ["fresh"]},
                )
            )
            await wait_for_waiters(watch, 2)
            await edit.execute(
                text(
                    "INSERT INTO tag (id, name, name_search, created_at, updated_at, version)"
                    " VALUES (gen_random_uuid(), 'fresh', 'fresh', now(), now(), 1)"
                    " ON CONFLICT (name) DO NOTHING"
                )
            )
            await edit.commit()
            deleted, created = await asyncio.gather(delete, create)

        assert deleted.status_code == 204, deleted.text
        assert created.status_code == 422, created.text
        assert created.json()["errors"][0]["type"] == "missing_reference"
        tags = (await client.get("/tags")).json()["items"]
        assert "fresh" in [tag["name"] for tag in tags]


async def test_an_edit_that_postgresql_ends_as_a_deadlock_runs_again(
    fresh_database: Callable[[], Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """Locks no order can avoid: an edit holds its book and wants its new author, while a
    writer holds that author and wants the book. The edit waits first, so PostgreSQL ends its
    transaction; the server runs it again, and the client gets the second run's answer."""
    caplog.set_level(logging.INFO)
    settings = fresh_database()
    async with serving(settings) as (client, _database):
        first = (await client.post("/authors", json={"name": "First"})).json()
        second = (await client.post("/authors", json={"name": "Second"})).json()
        book = await client.post("/books", json={"title": "Shared", "author_id": first["id"]})
        async with holder_and_watcher(settings.database_url) as (write, watch):
            await write.execute(
                text("SELECT id FROM author WHERE id = :id FOR UPDATE"), {"id": second["id"]}
            )
            edit = asyncio.create_task(
                client.patch(
                    f"/books/{book.json()['id']}",
                    json={"author_ids": [first["id"], second["id"]]},
                )
            )
            await wait_for_waiters(watch, 1)
            await write.execute(
                text("SELECT id FROM book WHERE id = :id FOR UPDATE"),
                {"id": book.json()["id"]},
            )
            await write.commit()
            edited = await edit

    assert edited.status_code == 200, edited.text
    assert [author["id"] for author in edited.json()["authors"]] == [first["id"], second["id"]]
    assert edited.json()["version"] == 2
    # The run that was rolled back is told of once, as what it is: not the database unavailable.
    retried = [record for record in caplog.records if "running it again" in record.message]
    assert [record.levelno for record in retried] == [logging.INFO]
    assert "deadlock detected" in retried[0].message
    assert not [record for record in caplog.records if record.name == "app.db.faults"]
