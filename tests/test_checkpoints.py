"""SQLite's WAL is checkpointed by a task of its own, so the writer does not copy it mid-write."""

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import text

from app.config import Settings
from app.db import checkpoints
from app.db.engine import WRITER_CHECKPOINT_PAGES, Database
from tests.helpers.serving import serving

pytestmark = pytest.mark.sqlite


async def test_a_task_of_its_own_checkpoints_the_wal_the_writers_write(
    fresh_database: Callable[[], Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "CHECKPOINT_EVERY_SECONDS", 0.01)
    answers: list[tuple[int, int, int]] = []
    checkpoint = checkpoints.passive_checkpoint

    async def watched(database: Database) -> tuple[int, int, int]:
        answers.append(await checkpoint(database))
        return answers[-1]

    monkeypatch.setattr(checkpoints, "passive_checkpoint", watched)
    async with serving(fresh_database()) as (client, database):
        async with database.write_engine.connect() as connection:
            threshold = await connection.scalar(text("PRAGMA wal_autocheckpoint"))
        assert threshold == WRITER_CHECKPOINT_PAGES
        author = (await client.post("/authors", json={"name": "Checkpointed"})).json()["id"]
        for n in range(5):
            book = {"title": f"Book {n}", "author_id": author, "tags": ["wal"]}
            assert (await client.post("/books", json=book)).status_code == 201
        answers.clear()
        for _ in range(200):
            if answers:
                break
            await asyncio.sleep(0.01)
        busy, frames, copied = answers[0]
        # Every page the writes left in the WAL is in the database file now.
        assert (busy, copied) == (0, frames)
        assert frames > 0
