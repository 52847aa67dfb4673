"""The same data, text and filters give the same items in the same order on SQLite and
PostgreSQL: one catalogue made on both, every search compared."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from random import Random
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.main import create_app
from tests.conftest import SERVER_URL
from tests.helpers.databases import scratch_database

pytestmark = pytest.mark.postgres

WORDS = [
    "dragon", "dragons", "drago", "rider", "riders", "night", "knight", "harry", "potter",
    "pottery", "stone", "stones", "secret", "secrets", "chamber", "tolkien", "token", "the",
    "of", "a", "garden", "gardens", "1984", "1985", "café", "cafe", "zola", "émile",
]  # fmt: skip
SEARCHES = [
    "dragon",
    "dragon rider",
    "rider dragon",
    "drgaon rdier",
    "dra",
    "knigt",
    "harry potter",
    "hary poter",
    '"harry potter"',
    "potter -pottery",
    "secret",
    "secrets chamber",
    "tolkein",
    "token",
    "the",
    "a",
    "1984",
    "cafe",
    "emile zola",
    "garden -gardens -dragon",
    "stone stones",
]
PARAMS: list[dict[str, Any]] = [
    {},
    {"typos": "false"},
    {"sort": "relevance,-title"},
    {"tag": "gardens"},
    {"per_page": 7, "page": 2},
]


def phrase(random: Random, low: int, high: int) -> str:
    return " ".join(random.choice(WORDS) for _ in range(random.randint(low, high))).title()


async def fill(client: AsyncClient) -> dict[str, int]:
    """The same catalogue on each database; each item's place in the order it was made."""
    random = Random(1202)
    made: dict[str, int] = {}
    authors = []
    for _ in range(12):
        fields = {"name": phrase(random, 1, 3)}
        if random.random() < 0.5:
            fields["bio"] = phrase(random, 2, 8)
        response = await client.post("/authors", json=fields)
        assert response.status_code == 201, response.text
        authors.append(response.json()["id"])
        made[authors[-1]] = len(made)
    for _ in range(90):
        book: dict[str, Any] = {
            "title": phrase(random, 1, 5),
            "author_ids": random.sample(authors, random.randint(1, 2)),
            "tags": sorted({phrase(random, 1, 2).lower() for _ in range(random.randint(0, 3))}),
        }
        if random.random() < 0.3:
            book["series"] = phrase(random, 1, 3)
        if random.random() < 0.6:
            book["description"] = phrase(random, 3, 20)
        response = await client.post("/books", json=book)
        assert response.status_code == 201, response.text
        made[response.json()["id"]] = len(made)
    return made


@asynccontextmanager
async def served(url: str) -> AsyncIterator[AsyncClient]:
    app = create_app(
        Settings(database_url=url, auth_mode="open", rate_limit_per_minute=0, import_runner=False)
    )
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def orders(url: str) -> dict[tuple[str, str, str], list[int]]:
    """The order of every search's answer, as the places the items were made in."""
    found = {}
    async with served(url) as client:
        made = await fill(client)
        for path in ("/books", "/authors"):
            for text in SEARCHES:
                for params in PARAMS if path == "/books" else PARAMS[:2]:
                    response = await client.get(
                        path, params={"search": text, "per_page": 100, **params}
                    )
                    assert response.status_code == 200, response.text
                    items = response.json()["items"]
                    found[path, text, str(params)] = [made[item["id"]] for item in items]
    return found


async def test_both_databases_rank_alike(tmp_path: Path) -> None:
    assert SERVER_URL is not None
    with (
        scratch_database(tmp_path, None) as sqlite,
        scratch_database(tmp_path, SERVER_URL) as postgres,
    ):
        # Alembic runs its own event loop: in a thread of its own.
        await asyncio.to_thread(sqlite.upgrade)
        await asyncio.to_thread(postgres.upgrade)
        on_sqlite, on_postgres = await orders(sqlite.url), await orders(postgres.url)
    differ = [key for key in on_sqlite if on_sqlite[key] != on_postgres[key]]
    assert differ == [], [(key, on_sqlite[key], on_postgres[key]) for key in differ[:3]]
    # The searches find something, and ties are many: the rules and the id decide.
    assert sum(1 for order in on_sqlite.values() if len(order) > 3) > len(on_sqlite) // 2
