"""Conditional requests: concurrent writers that send the same If-Match cannot both win."""

import asyncio
from collections.abc import Callable

from httpx import Response

from app.config import Settings
from tests.helpers.serving import serving

CLIENTS = 16


async def test_concurrent_patches_with_one_if_match_let_exactly_one_through(
    fresh_database: Callable[[], Settings],
) -> None:
    async with serving(fresh_database()) as (client, _):
        author = await client.post("/authors", json={"name": "Contested"})
        book = await client.post(
            "/books", json={"title": "Contested", "author_id": author.json()["id"]}
        )
        for created, path in ((author, "/authors"), (book, "/books")):
            url = f"{path}/{created.json()['id']}"
            tag = (await client.get(url)).headers["etag"]

            async def patch(n: int, url: str = url, tag: str = tag) -> Response:
                field = "bio" if "authors" in url else "description"
                return await client.patch(url, json={field: f"by {n}"}, headers={"If-Match": tag})

            answers = await asyncio.gather(*(patch(n) for n in range(CLIENTS)))

            statuses = sorted(answer.status_code for answer in answers)
            assert statuses == [200] + [412] * (CLIENTS - 1)
            winner = next(answer for answer in answers if answer.status_code == 200)
            final = await client.get(url)
            assert final.json()["version"] == 2
            assert final.headers["etag"] == winner.headers["etag"] != tag
            assert {key: final.json()[key] for key in winner.json()} == winner.json()


async def test_concurrent_deletes_with_one_if_match_let_exactly_one_through(
    fresh_database: Callable[[], Settings],
) -> None:
    async with serving(fresh_database()) as (client, _):
        author = await client.post("/authors", json={"name": "Doomed"})
        url = f"/authors/{author.json()['id']}"
        headers = {"If-Match": author.headers["etag"]}

        answers = await asyncio.gather(*(client.delete(url, headers=headers) for _ in range(8)))

        statuses = sorted(answer.status_code for answer in answers)
        # One delete wins; the others find the author gone.
        assert statuses == [204] + [404] * 7
        assert (await client.get(url)).status_code == 404
