"""Idempotent retries: a key replays its first answer, never creates twice."""

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlmodel import select

from app.config import Settings
from app.idempotency.purge import purge_expired_keys
from app.models import IdempotencyKey, utcnow
from app.state import state_of
from tests.helpers.serving import serving

AUTHOR = {"name": "Octavia E. Butler"}


async def post(client: AsyncClient, key: str, body: object, path: str = "/authors") -> Response:
    return await client.post(path, json=body, headers={"Idempotency-Key": key})


async def test_a_retry_replays_the_first_answer_and_creates_nothing(client: AsyncClient) -> None:
    first = await post(client, "key-1", AUTHOR)
    again = await post(client, "key-1", AUTHOR)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert (await client.get("/authors")).json()["meta"]["total"] == 1


async def test_the_same_body_spelled_differently_is_the_same_request(client: AsyncClient) -> None:
    await client.post(
        "/authors",
        content=b'{"name": "Octavia E. Butler", "bio": "x"}',
        headers={"Idempotency-Key": "k", "content-type": "application/json"},
    )
    again = await client.post(
        "/authors",
        content=b'{"bio":"x","name":"Octavia E. Butler"}',
        headers={"Idempotency-Key": "k", "content-type": "application/json"},
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_key_reused_with_another_body_is_a_422(client: AsyncClient) -> None:
    await post(client, "key-2", AUTHOR)
    other = await post(client, "key-2", {"name": "Someone else"})
    assert other.status_code == 422
    assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert (await client.get("/authors")).json()["meta"]["total"] == 1


async def test_a_key_reused_on_another_path_is_a_422(client: AsyncClient) -> None:
    author = (await post(client, "key-3", AUTHOR)).json()
    book = await post(client, "key-3", {"title": "Kindred", "author_id": author["id"]}, "/books")
    assert book.status_code == 422
    assert (await client.get("/books")).json()["meta"]["total"] == 0


async def test_books_replay_too(client: AsyncClient) -> None:
    author = (await client.post("/authors", json=AUTHOR)).json()
    book = {"title": "Kindred", "author_id": author["id"], "tags": ["SF"]}
    first = await post(client, "book-key", book, "/books")
    again = await post(client, "book-key", book, "/books")
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert (await client.get("/books")).json()["meta"]["total"] == 1


async def test_a_failed_first_request_stores_nothing(client: AsyncClient) -> None:
    missing_author = {"title": "Orphan", "author_id": "01900000-0000-7000-8000-000000000000"}
    assert (await post(client, "fails", missing_author, "/books")).status_code == 422
    author = (await client.post("/authors", json=AUTHOR)).json()
    retried = await post(client, "fails", {**missing_author, "author_id": author["id"]}, "/books")
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers


@pytest.mark.parametrize("key", ["", "with space", "é", "x" * 256, "tab\there"])
async def test_malformed_keys_are_422(client: AsyncClient, key: str) -> None:
    answer = await client.post("/authors", json=AUTHOR, headers={b"Idempotency-Key": key.encode()})
    assert answer.status_code == 422
    assert (await client.get("/authors")).json()["meta"]["total"] == 0


async def test_sixteen_concurrent_posts_with_one_key_create_one_row(
    fresh_database: Callable[[], Settings],
) -> None:
    async with serving(fresh_database()) as (client, _):
        answers = await asyncio.gather(*(post(client, "together", AUTHOR) for _ in range(16)))

        assert [answer.status_code for answer in answers] == [201] * 16
        assert len({answer.text for answer in answers}) == 1
        replayed = [answer.headers.get("idempotent-replayed") for answer in answers]
        assert replayed.count("true") == 15
        assert (await client.get("/authors")).json()["meta"]["total"] == 1


async def test_a_key_still_in_flight_past_the_wait_is_a_409(
    app: FastAPI, client: AsyncClient
) -> None:
    state_of(app).settings = state_of(app).settings.model_copy(
        update={"idempotency_wait_seconds": 0.2}
    )
    # Another request of this process, sent with the same API key, holds the key for longer
    # than the wait.
    (owner,) = [key["id"] for key in (await client.get("/api-keys")).json()["items"]]
    async with state_of(app).in_flight.hold(f"{owner}:busy", 1):
        answer = await post(client, "busy", AUTHOR)
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.get("/authors")).json()["meta"]["total"] == 0
    assert (await post(client, "busy", AUTHOR)).status_code == 201


async def test_expired_keys_are_purged_and_no_longer_replay(
    fresh_database: Callable[[], Settings],
) -> None:
    settings = fresh_database().model_copy(update={"idempotency_ttl_hours": 1e-6})
    async with serving(settings) as (client, database):
        await post(client, "short-lived", AUTHOR)
        await asyncio.sleep(0.01)
        again = await post(client, "short-lived", AUTHOR)
        assert "idempotent-replayed" not in again.headers
        assert (await client.get("/authors")).json()["meta"]["total"] == 2
        await asyncio.sleep(0.01)
        assert await purge_expired_keys(database) == 1


async def test_keys_live_at_least_a_day(app: FastAPI, client: AsyncClient) -> None:
    await post(client, "day", AUTHOR)
    async with state_of(app).database.reads() as session:
        stored = (await session.exec(select(IdempotencyKey))).one()
    assert stored.expires_at - utcnow() > timedelta(hours=23, minutes=59)
