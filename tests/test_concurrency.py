"""Concurrent writes through one app: none fails on a lock, none is lost."""

import asyncio
from collections.abc import Callable

from httpx import Response

from app.config import Settings
from tests.helpers.serving import serving

CLIENTS = 50


async def test_concurrent_read_modify_writes_neither_fail_nor_lose_an_update(
    fresh_database: Callable[[], Settings],
) -> None:
    async with serving(fresh_database()) as (client, database):
        author = (await client.post("/authors", json={"name": "Counter"})).json()

        async def patch(n: int) -> Response:
            return await client.patch(f"/authors/{author['id']}", json={"bio": f"writer {n}"})

        answers = await asyncio.gather(*(patch(n) for n in range(CLIENTS)))

        assert [answer.status_code for answer in answers] == [200] * CLIENTS
        # Each update read the version the previous one wrote: none was overwritten unseen.
        versions = sorted(answer.json()["version"] for answer in answers)
        assert versions == list(range(2, CLIENTS + 2))
        final = (await client.get(f"/authors/{author['id']}")).json()
        assert final["version"] == CLIENTS + 1
        assert final["bio"] in {answer.json()["bio"] for answer in answers}
        assert database.write_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_concurrent_creates_sharing_new_tags_all_succeed(
    fresh_database: Callable[[], Settings],
) -> None:
    async with serving(fresh_database()) as (client, _database):
        author = (await client.post("/authors", json={"name": "Prolific"})).json()

        async def create(n: int) -> Response:
            book = {"title": f"Book {n}", "author_id": author["id"], "tags": ["new", f"t{n % 3}"]}
            return await client.post("/books", json=book)

        answers = await asyncio.gather(*(create(n) for n in range(CLIENTS)))

        assert [answer.status_code for answer in answers] == [201] * CLIENTS
        tags = (await client.get("/tags", params={"sort": "name"})).json()
        assert {tag["name"]: tag["book_count"] for tag in tags["items"]} == {
            "new": CLIENTS,
            "t0": 17,
            "t1": 17,
            "t2": 16,
        }
        detail = (await client.get(f"/authors/{author['id']}")).json()
        assert len(detail["books"]) == CLIENTS
