"""Database faults that are no request's fault and no bug answer 503 problems, never 500."""

import uuid
from pathlib import Path

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.engine import make_url

from app.config import Settings
from tests.conftest import SERVER_URL
from tests.helpers.databases import scratch_database
from tests.helpers.serving import serving


def assert_retry_later(answer: Response, words: str) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert words in answer.json()["detail"]


async def every_kind_of_request(client: AsyncClient, words: str) -> None:
    some_id = uuid.uuid4()
    assert_retry_later(await client.get("/authors"), words)
    assert_retry_later(await client.get(f"/books/{some_id}"), words)
    assert_retry_later(await client.post("/authors", json={"name": "Nobody"}), words)
    assert_retry_later(await client.patch(f"/books/{some_id}", json={}), words)
    assert_retry_later(await client.delete(f"/authors/{some_id}"), words)


async def test_a_database_never_migrated_is_a_503_naming_it(tmp_path: Path) -> None:
    with scratch_database(tmp_path, SERVER_URL) as database:
        if database.path is not None:
            database.path.touch()
        async with serving(Settings(database_url=database.url)) as (client, _):
            await every_kind_of_request(client, "migrated")
            ready = await client.get("/health/ready")
            assert_retry_later(ready, "run the migrations")


@pytest.mark.postgres
async def test_a_database_that_does_not_exist_is_a_503_naming_it() -> None:
    assert SERVER_URL is not None
    missing = make_url(SERVER_URL).set(database=f"folio_missing_{uuid.uuid4().hex[:8]}")
    settings = Settings(database_url=missing.render_as_string(False))
    async with serving(settings) as (client, _):
        await every_kind_of_request(client, "does not exist")
        assert_retry_later(await client.get("/health/ready"), "does not exist")
