"""Copying a SQLite database into an empty PostgreSQL one keeps every row as it was."""

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from app.commands.copy_database import CopyError, copy_database
from app.commands.seed import seed
from app.config import Settings
from app.db.engine import create_engine
from app.db.migrations import PROJECT_ROOT
from tests.helpers.databases import ScratchDatabase
from tests.helpers.serving import serving

pytestmark = pytest.mark.postgres


async def all_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in primary-key order, as the app's types read them."""
    engine = create_engine(Settings(database_url=url), writer=False)
    try:
        async with engine.connect() as connection:
            return {
                table.name: [
                    dict(row._mapping)
                    for row in await connection.execute(
                        select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in SQLModel.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


@pytest.fixture
async def source(tmp_path: Path) -> ScratchDatabase:
    """A migrated SQLite database with a small demo catalogue and a few rows made by the API."""
    path = tmp_path / "source.db"
    database = ScratchDatabase(url=f"sqlite+aiosqlite:///{path}", path=path)
    await asyncio.to_thread(database.upgrade)
    await seed(Settings(database_url=database.url), authors=30, books=90)
    async with serving(Settings(database_url=database.url)) as (client, _database):
        author = await client.post(
            "/authors", json={"name": "Émile Zola"}, headers={"Idempotency-Key": "copy-1"}
        )
        book = {"title": "L'Œuvre", "author_id": author.json()["id"], "tags": ["Naturalism"]}
        assert (await client.post("/books", json=book)).status_code == 201
        patched = await client.patch(f"/authors/{author.json()['id']}", json={"bio": "x"})
        assert patched.status_code == 200
    return database


async def test_the_copy_holds_every_row_and_serves_the_same_answers(
    source: ScratchDatabase, fresh_database: Callable[[], Settings]
) -> None:
    target = fresh_database().database_url
    command = [
        sys.executable,
        "-m",
        "app.commands.copy_database",
        "--from",
        source.url,
        "--to",
        target,
    ]
    # A small batch size, so that every table of any size goes over several batches.
    done = await asyncio.to_thread(
        subprocess.run,
        [*command, "--batch-size", "7"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    before, after = await all_rows(source.url), await all_rows(target)
    printed = {line.split()[0]: int(line.split()[1]) for line in done.stdout.splitlines()}
    assert printed == {
        **{name: len(rows) for name, rows in before.items()},
        "total": sum(len(rows) for rows in before.values()),
    }
    assert len(before["author"]) == 31
    assert len(before["idempotency_key"]) == 1
    # Ids, timestamps (to the microsecond, in UTC), versions and text alike.
    assert after == before

    async def answers(url: str) -> list[Any]:
        async with serving(Settings(database_url=url)) as (client, _database):
            books = await client.get("/books", params={"sort": "created_at", "per_page": 100})
            author = await client.get(f"/authors/{before['author'][-1]['id']}")
            return [books.json(), author.json(), author.headers["etag"]]

    assert await answers(target) == await answers(source.url)


async def test_a_target_with_rows_is_refused_and_left_alone(
    source: ScratchDatabase, fresh_database: Callable[[], Settings]
) -> None:
    target = fresh_database().database_url
    await copy_database(source.url, target)
    copied = await all_rows(target)

    with pytest.raises(CopyError, match="not empty"):
        await copy_database(source.url, target)
    assert await all_rows(target) == copied


async def test_databases_at_different_revisions_are_refused(
    source: ScratchDatabase, fresh_database: Callable[[], Settings]
) -> None:
    settings = fresh_database()
    behind = ScratchDatabase(url=settings.database_url)
    await asyncio.to_thread(behind.downgrade, "-1")

    with pytest.raises(CopyError, match="revision"):
        await copy_database(source.url, behind.url)
    assert sum(map(len, (await all_rows(source.url)).values())) > 0


async def test_an_unmigrated_source_is_refused(
    tmp_path: Path, fresh_database: Callable[[], Settings]
) -> None:
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(CopyError, match="not been migrated"):
        await copy_database(empty, fresh_database().database_url)
