"""Imports driven the way a client drives them, and run to the end by a runner in the test."""

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from httpx import AsyncClient
from sqlmodel import func, select

from app.config import Settings
from app.db.engine import Database
from app.imports.runner import ImportRunner
from app.models import ImportChunk
from tests.helpers.serving import serving

CSV = "text/csv"
NDJSON = "application/x-ndjson"


def ndjson(*rows: object) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


async def upload(
    client: AsyncClient, body: bytes, content_type: str = NDJSON, **params: Any
) -> dict[str, Any]:
    response = await client.post(
        "/imports", content=body, headers={"Content-Type": content_type}, params=params
    )
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


async def run_all(database: Database, settings: Settings) -> None:
    """Run every queued import to its end in this task."""
    runner = ImportRunner(database, settings)
    while await runner.run_next() is not None:
        pass


async def imported(
    client: AsyncClient, database: Database, settings: Settings, body: bytes, **kwargs: Any
) -> dict[str, Any]:
    """Upload, run, and return the finished import."""
    job = await upload(client, body, **kwargs)
    await run_all(database, settings)
    response = await client.get(f"/imports/{job['id']}")
    assert response.status_code == 200, response.text
    finished: dict[str, Any] = response.json()
    return finished


async def errors_of(client: AsyncClient, import_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/imports/{import_id}/errors", params={"per_page": 100})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def warnings_of(client: AsyncClient, import_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/imports/{import_id}/warnings", params={"per_page": 100})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def all_books(client: AsyncClient) -> list[dict[str, Any]]:
    """Every book, by title then id, through the API."""
    books: list[dict[str, Any]] = []
    cursor = ""
    while cursor is not None:
        response = await client.get("/books", params={"per_page": 100, "cursor": cursor})
        assert response.status_code == 200, response.text
        books += response.json()["items"]
        cursor = response.json()["meta"]["next_cursor"]
    return books


@asynccontextmanager
async def served(
    fresh_database: Callable[..., Settings], **settings: Any
) -> AsyncIterator[tuple[AsyncClient, Database, Settings]]:
    """A real app on a database of its own; its runner only runs when the test says so."""
    base = fresh_database()
    configured = base.model_copy(update={"import_runner": False, **settings})
    async with serving(configured) as (client, database):
        yield client, database, configured


async def stored_chunks(database: Database, import_id: str) -> int:
    """How many pieces of the import's upload the database still holds."""
    async with database.reads() as session, session.begin():
        statement = select(func.count()).where(ImportChunk.import_id == uuid.UUID(import_id))
        return (await session.exec(statement)).one()
