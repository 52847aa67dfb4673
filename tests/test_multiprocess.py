"""Several server processes on one PostgreSQL database keep every write guarantee.

Each test starts real `python -m app` processes on a fresh migrated database and spreads
concurrent writes over them, so the row locks, not any one process, must keep them safe.
"""

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from bench.server import make_key
from tests.helpers.databases import ScratchDatabase
from tests.helpers.server import ServerProcess

pytestmark = pytest.mark.postgres

PROCESSES = 2
PATCHES = 40
BURST = 120


@pytest.fixture(scope="module")
def servers(
    template: ScratchDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ServerProcess]]:
    """PROCESSES servers, all ready, on one fresh migrated database that the module's tests share.

    Each test works on rows of its own; starting the processes once keeps the module quick.
    """
    directory = tmp_path_factory.mktemp("multiprocess")
    database = template.copy(directory)  # what fresh_database does, once for the module
    started = [ServerProcess(database.url, directory / f"server-{n}.log") for n in range(PROCESSES)]
    # One client, one API key, whichever process serves it: Idempotency-Keys belong to the key.
    key = make_key(database.url, "admin", "tests")
    try:
        for server in started:
            server.key = key
            server.start()
        yield started
    finally:
        for server in started:
            server.stop()
        database.drop()


@pytest.fixture
async def clients(servers: list[ServerProcess]) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One HTTP client per server process."""
    limits = httpx.Limits(max_connections=BURST)
    opened = [
        httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30, limits=limits)
        for server in servers
    ]
    try:
        yield opened
    finally:
        for client in opened:
            await client.aclose()


async def test_concurrent_patches_over_every_process_lose_no_update(
    clients: list[httpx.AsyncClient],
) -> None:
    author = (await clients[0].post("/authors", json={"name": "Counter"})).json()

    async def patch(n: int) -> httpx.Response:
        client = clients[n % len(clients)]
        return await client.patch(f"/authors/{author['id']}", json={"bio": f"writer {n}"})

    answers = await asyncio.gather(*(patch(n) for n in range(PATCHES)))

    assert [answer.status_code for answer in answers] == [200] * PATCHES
    # Each update read the version the one before it wrote, whichever process served it.
    assert sorted(answer.json()["version"] for answer in answers) == list(range(2, PATCHES + 2))
    for client in clients:
        final = (await client.get(f"/authors/{author['id']}")).json()
        assert final["version"] == PATCHES + 1
        assert final["bio"] in {answer.json()["bio"] for answer in answers}


async def test_the_same_if_match_over_every_process_lets_exactly_one_win(
    clients: list[httpx.AsyncClient],
) -> None:
    created = await clients[0].post("/authors", json={"name": "Contested"})
    author, etag = created.json(), created.headers["etag"]

    async def patch(n: int) -> httpx.Response:
        client = clients[n % len(clients)]
        return await client.patch(
            f"/authors/{author['id']}", json={"bio": f"writer {n}"}, headers={"If-Match": etag}
        )

    answers = await asyncio.gather(*(patch(n) for n in range(PATCHES)))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [412] * (PATCHES - 1)
    winner = next(answer for answer in answers if answer.status_code == 200).json()
    final = (await clients[1].get(f"/authors/{author['id']}")).json()
    assert (final["version"], final["bio"]) == (2, winner["bio"])


async def test_one_idempotency_key_over_every_process_creates_one_row(
    clients: list[httpx.AsyncClient],
) -> None:
    author = {"name": "Written once"}
    key = {"Idempotency-Key": "multiprocess-retry"}

    async def post(n: int) -> httpx.Response:
        return await clients[n % len(clients)].post("/authors", json=author, headers=key)

    answers = await asyncio.gather(*(post(n) for n in range(PATCHES)))
    later = [await client.post("/authors", json=author, headers=key) for client in clients]

    assert [answer.status_code for answer in answers + later] == [201] * (PATCHES + len(clients))
    # Every answer, from whichever process, is the first request's answer.
    assert len({answer.text for answer in answers + later}) == 1
    replayed = [answer.headers.get("idempotent-replayed") for answer in answers + later]
    assert replayed.count("true") == PATCHES + len(clients) - 1
    listed = await clients[0].get("/authors", params={"name": author["name"]})
    assert listed.json()["meta"]["total"] == 1


@dataclass
class Ledger:
    """What the 2xx answers of the burst said about each resource."""

    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    statuses: list[int] = field(default_factory=list)
    book_author: dict[str, str] = field(default_factory=dict)

    def record(self, answer: httpx.Response) -> None:
        self.statuses.append(answer.status_code)
        if answer.status_code in (200, 201):
            body = answer.json()
            self.answers.setdefault(body["id"], []).append(body)
            if "author_id" in body:
                self.book_author[body["id"]] = body["author_id"]

    def latest(self, resource_id: str) -> dict[str, Any]:
        """The answer with the highest version; versions of one resource never repeat."""
        answers = self.answers[resource_id]
        versions = [answer["version"] for answer in answers]
        assert len(set(versions)) == len(versions), f"{resource_id} answered a version twice"
        return max(answers, key=lambda answer: answer["version"])


async def test_a_burst_of_mixed_writes_over_every_process_has_no_5xx_and_keeps_what_it_said(
    servers: list[ServerProcess], clients: list[httpx.AsyncClient]
) -> None:
    rng = random.Random(20261123)
    ledger = Ledger()
    check = clients[1]
    # Other tests of the module wrote to the same database; count only what this one adds.
    authors_before = (await check.get("/authors")).json()["meta"]["total"]
    books_before = (await check.get("/books")).json()["meta"]["total"]
    authors: list[str] = []
    books: list[str] = []
    for n in range(6):
        created = await clients[0].post("/authors", json={"name": f"Author {n}"})
        ledger.record(created)
        authors.append(created.json()["id"])
    for n in range(18):
        book = {"title": f"Book {n}", "author_id": authors[n % 6], "tags": [f"t{n % 4}"]}
        created = await clients[0].post("/books", json=book)
        ledger.record(created)
        books.append(created.json()["id"])
    isbns = ["9780060512750", "9780441478125", "9780765326355"]

    def operation(n: int) -> tuple[str, str, dict[str, Any]]:
        """One random write: (method, path, keyword arguments), on the starting rows."""
        roll = rng.random()
        author, book = rng.choice(authors), rng.choice(books)
        tags = rng.sample(["shared", "t0", "t1", "t2", "t3", f"new{n % 5}"], rng.randint(0, 3))
        if roll < 0.15:
            return "POST", "/authors", {"json": {"name": f"New author {n}"}}
        if roll < 0.35:
            body = {"title": f"New book {n}", "author_id": author, "tags": tags}
            if rng.random() < 0.3:
                body["isbn"] = rng.choice(isbns)  # some collide: 409
            return "POST", "/books", {"json": body}
        if roll < 0.55:
            return "PATCH", f"/authors/{author}", {"json": {"bio": f"bio {n}"}}
        if roll < 0.8:
            return "PATCH", f"/books/{book}", {"json": {"title": f"Retitled {n}", "tags": tags}}
        if roll < 0.92:
            return "DELETE", f"/books/{book}", {}
        cascade = rng.random() < 0.5
        return "DELETE", f"/authors/{author}", {"params": {"cascade": str(cascade).lower()}}

    operations = [operation(n) for n in range(BURST)]

    async def send(n: int, method: str, path: str, kwargs: dict[str, Any]) -> None:
        answer = await clients[n % len(clients)].request(method, path, **kwargs)
        assert answer.status_code < 500, f"{method} {path}: {answer.status_code} {answer.text}"
        ledger.record(answer)
        if answer.status_code == 204:
            ledger.deleted.add(path.rsplit("/", 1)[1])

    await asyncio.gather(*(send(n, *op) for n, op in enumerate(operations)))

    assert not [status for status in ledger.statuses if status >= 500]
    for server in servers:
        assert "Traceback" not in server.log_text(), server.log_text()
    # Every kind of write got through at least once, beside the ones that lost a race.
    assert {200, 201, 204} <= set(ledger.statuses)

    present_authors = present_books = 0
    for resource_id in ledger.answers:
        is_book = resource_id in ledger.book_author
        gone = resource_id in ledger.deleted or (
            is_book and ledger.book_author[resource_id] in ledger.deleted
        )
        stored = await check.get(f"/{'books' if is_book else 'authors'}/{resource_id}")
        if gone:
            assert stored.status_code == 404, stored.text
            continue
        assert stored.status_code == 200, stored.text
        expected = ledger.latest(resource_id)
        fields = ["version", "updated_at", *(["title", "tags"] if is_book else ["name", "bio"])]
        assert {key: stored.json()[key] for key in fields} == {key: expected[key] for key in fields}
        present_books += is_book
        present_authors += not is_book
    # Nothing exists that no answer told of.
    authors_after = (await check.get("/authors")).json()["meta"]["total"]
    books_after = (await check.get("/books")).json()["meta"]["total"]
    assert (authors_after, books_after) == (
        authors_before + present_authors,
        books_before + present_books,
    )
