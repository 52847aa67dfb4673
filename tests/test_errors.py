"""Every failure is an RFC 9457 problem, and none gives away the server's insides."""

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest
from alembic import command
from fastapi import FastAPI, Request
from httpx import AsyncClient

from app.config import Settings
from app.db.migrations import alembic_config
from app.kit.errors import MAX_ERRORS, problem
from app.kit.quoting import MESSAGE_CHARACTERS
from tests.helpers.problems import assert_problem
from tests.helpers.serving import serving


@pytest.mark.parametrize("sent", ["I%09x", "a%3Fb", "%0Anew", "50%25"])
async def test_instance_is_the_path_as_received(client: AsyncClient, sent: str) -> None:
    answer = await client.get(f"/authors/{sent}")

    assert_problem(answer, 422)
    assert answer.json()["instance"] == "/authors/" + unquote(sent)


async def test_an_unexpected_error_is_a_500_that_leaks_nothing(
    app: FastAPI, client: AsyncClient
) -> None:
    @app.get("/explode")
    async def explode() -> None:
        raise RuntimeError("SELECT secret FROM /srv/folio/app/db.py line 42")

    answer = await client.get("/explode")
    body = assert_problem(answer, 500)
    assert "secret" not in answer.text
    assert "/srv" not in answer.text
    assert "Traceback" not in answer.text
    assert body["detail"] == "An unexpected error occurred."


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ('{"name": ', "application/json"),
        ("[]", "application/json"),
        ('"just a string"', "application/json"),
        ("name=x", "application/x-www-form-urlencoded"),
        ("\xff\xfe", "application/json"),
        ("[" * 5000 + "]" * 5000, "application/json"),
        ('{"name": {"a": ' * 300 + "1" + "}" * 301, "application/json"),
    ],
    ids=["truncated", "list", "string", "form", "invalid-utf8", "deep-list", "deep-object"],
)
async def test_malformed_bodies_are_422_problems(
    client: AsyncClient, content: str, content_type: str
) -> None:
    answer = await client.post(
        "/authors",
        content=content.encode("latin-1"),
        headers={"content-type": content_type},
    )
    body = assert_problem(answer, 422)
    assert isinstance(body["errors"], list)
    assert body["errors"]
    assert (await client.get("/authors")).json()["meta"]["total"] == 0


async def test_validation_errors_say_where_without_echoing_input(client: AsyncClient) -> None:
    answer = await client.post("/authors", json={"name": "", "extra": "secret-input"})
    body = assert_problem(answer, 422)
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {tuple(error["loc"]) for error in errors} == {("body", "name"), ("body", "extra")}
    assert all(error.keys() == {"loc", "msg", "type"} for error in errors)
    assert "secret-input" not in answer.text


async def test_an_error_quotes_no_more_than_a_short_part_of_the_input(
    client: AsyncClient,
) -> None:
    answers = [
        await client.get("/books", params={"sort": "title,-" + "x" * 190}),
        await client.get("/books", params={"x" * 20_000: "1"}),
        await client.post("/authors", json={"name": "A", "x" * 20_000: 1}),
    ]
    for answer in answers:
        body = assert_problem(answer, 422)
        assert len(answer.content) < 1_000, body
        assert "x" * 40 in answer.text  # enough to see what was meant
        assert "x" * 60 not in answer.text


async def test_a_problem_lists_a_bounded_number_of_errors(client: AsyncClient) -> None:
    fields = {f"field_{number}": 1 for number in range(MAX_ERRORS + 50)}
    answer = await client.post("/authors", json={"name": "A", **fields})

    body = assert_problem(answer, 422)
    assert len(body["errors"]) == MAX_ERRORS


def test_a_problem_shortens_a_long_detail() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/books", "headers": []})
    answer = problem(request, 409, "Conflict", "x" * 5_000)

    body = json.loads(bytes(answer.body))
    assert len(body["detail"]) == MESSAGE_CHARACTERS
    assert body["detail"].endswith("…")


async def test_unknown_route_and_method(client: AsyncClient) -> None:
    assert_problem(await client.get("/nowhere"), 404)
    assert_problem(await client.put("/authors"), 405)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///{tmp}/no/such/dir/folio.db",
        # Port 9 (discard) has no PostgreSQL behind it.
        "postgresql+asyncpg://folio@127.0.0.1:9/folio",
    ],
    ids=["sqlite", "postgresql"],
)
async def test_an_unreachable_database_is_a_503_with_retry_after(tmp_path: Path, url: str) -> None:
    settings = Settings(database_url=url.format(tmp=tmp_path), pool_timeout=2)
    async with serving(settings) as (client, _):
        answer = await client.get("/authors")
        assert_problem(answer, 503)
        assert answer.headers["retry-after"] == "1"
        assert_problem(await client.post("/authors", json={"name": "Nobody"}), 503)
        assert_problem(await client.get("/health/ready"), 503)


async def test_health(client: AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok"}


@pytest.mark.sqlite
async def test_ready_says_when_the_schema_is_missing(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    async with serving(settings) as (client, _):
        body = assert_problem(await client.get("/health/ready"), 503)
        assert "migration" in str(body["detail"])


async def test_ready_says_when_the_schema_is_behind(
    fresh_database: Callable[[], Settings],
) -> None:
    settings = fresh_database()
    await asyncio.to_thread(command.downgrade, alembic_config(settings.database_url), "base")
    async with serving(settings) as (client, _):
        body = assert_problem(await client.get("/health/ready"), 503)
        assert "migrat" in str(body["detail"])


async def test_a_problem_names_the_path_as_sent_even_with_an_escaped_question_mark(
    client: AsyncClient,
) -> None:
    answer = await client.get("/authors/%C2%A3%3Fx")
    assert answer.status_code == 422
    assert answer.json()["instance"] == "/authors/£?x"
