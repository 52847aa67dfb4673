"""A cascade delete of an author wins against books being created for them, or waits for
them: it never answers that the author still has books, and the creates that lose get a 422
for the missing author."""

import asyncio
from collections.abc import Callable

from httpx import AsyncClient

from app.config import Settings
from tests.helpers.catalogue import create_author, create_book
from tests.helpers.imports import served

TRIALS = 8
WRITERS = 6


async def keep_creating(client: AsyncClient, author_id: str, stop: asyncio.Event) -> list[int]:
    """Create books for the author until told to stop; every status answered, in order."""
    statuses: list[int] = []
    n = 0
    while not stop.is_set():
        n += 1
        response = await client.post("/books", json={"title": f"Race {n}", "author_id": author_id})
        statuses.append(response.status_code)
        if response.status_code == 201:
            continue
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["type"] == "missing_reference", error
    return statuses


async def test_a_cascade_delete_wins_against_concurrent_creates(
    fresh_database: Callable[[], Settings],
) -> None:
    # The writers send as fast as the app answers: on a fast machine, past the default rate
    # limit, which is not what this test is about.
    async with served(fresh_database, rate_limit_per_minute=0) as (client, _database, _settings):
        for trial in range(TRIALS):
            author = await create_author(client, f"Racer {trial}")
            await create_book(client, author["id"], "Before the race")
            stop = asyncio.Event()
            writers = [
                asyncio.create_task(keep_creating(client, author["id"], stop))
                for _ in range(WRITERS)
            ]
            await asyncio.sleep(0.05)  # the creates are under way
            deleted = await client.delete(f"/authors/{author['id']}", params={"cascade": "true"})
            await asyncio.sleep(0.05)  # and go on a little after it
            stop.set()
            statuses = [status for writer in await asyncio.gather(*writers) for status in writer]
            assert deleted.status_code == 204, (trial, deleted.text)
            assert statuses.count(201) > 0, trial
            # Whatever was created before the delete went with it; nothing came after.
            left = await client.get("/books", params={"author_id": author["id"]})
            assert left.json()["items"] == [], trial
            assert (await client.get(f"/authors/{author['id']}")).status_code == 404
