"""X-Request-ID: kept when acceptable, replaced otherwise, on every answer, body and log line."""

import logging
import re
import uuid

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.observe.logs import RequestIdFilter
from app.observe.request_id import current_request_id

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize("sent", ["abc-123", "x", "~!#$%&'*+.^_`|" * 3, "7" * 200])
async def test_an_acceptable_id_is_echoed(client: AsyncClient, sent: str) -> None:
    answer = await client.get("/health/live", headers={"X-Request-ID": sent})

    assert answer.headers["x-request-id"] == sent


async def test_an_answer_without_an_id_gets_a_new_one_each_time(client: AsyncClient) -> None:
    first = await client.get("/health/live")
    second = await client.get("/health/live")

    assert GENERATED.fullmatch(first.headers["x-request-id"])
    assert GENERATED.fullmatch(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize(
    "sent",
    [b"", b"has space", b"tab\there", b"8" * 201, "caf\u00e9".encode("latin-1"), b"\x7f"],
    ids=["empty", "space", "tab", "201 characters", "latin-1", "DEL"],
)
async def test_an_unacceptable_id_is_replaced(client: AsyncClient, sent: bytes) -> None:
    answer = await client.get("/health/live", headers=[(b"X-Request-ID", sent)])

    assert answer.status_code == 200
    assert GENERATED.fullmatch(answer.headers["x-request-id"])


async def test_a_304_carries_the_id(client: AsyncClient) -> None:
    created = await client.post("/authors", json={"name": "Ursula K. Le Guin"})
    location, etag = created.headers["location"], created.headers["etag"]

    answer = await client.get(location, headers={"If-None-Match": etag, "X-Request-ID": "r-304"})

    assert answer.status_code == 304
    assert answer.headers["x-request-id"] == "r-304"


@pytest.mark.parametrize(
    ("path", "status"),
    [(f"/books/{uuid.uuid4()}", 404), ("/books/not-a-uuid", 422), ("/no/such/route", 404)],
)
async def test_a_problem_carries_the_id_in_its_body(
    client: AsyncClient, path: str, status: int
) -> None:
    answer = await client.get(path, headers={"X-Request-ID": "trace-42"})

    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["request_id"] == "trace-42"
    assert answer.headers["x-request-id"] == "trace-42"


async def test_a_generated_id_in_a_problem_body_is_the_one_in_the_header(
    client: AsyncClient,
) -> None:
    answer = await client.delete(f"/authors/{uuid.uuid4()}")

    assert answer.status_code == 404
    assert answer.json()["request_id"] == answer.headers["x-request-id"]


async def test_a_500_carries_the_id_and_its_log_lines_do_too(
    app: FastAPI, client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/explode")
    async def explode() -> None:
        logging.getLogger("app.test").warning("about to fail")
        raise RuntimeError("boom")

    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        answer = await client.get("/explode", headers={"X-Request-ID": "trace-500"})

    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "trace-500"
    assert answer.json()["request_id"] == "trace-500"
    by_logger = {record.name: record for record in caplog.records}
    for name in ("app.test", "app.kit.errors", "app.access"):
        assert getattr(by_logger[name], "request_id", None) == "trace-500", name
    assert by_logger["app.access"].status == 500  # type: ignore[attr-defined]


async def test_each_request_logs_one_access_line_with_its_route_and_id(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    book_id = uuid.uuid4()
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="app.access"):
        await client.get(f"/books/{book_id}", headers={"X-Request-ID": "one-line"})
        # The client sends its API key: neither it nor the query may reach the log.
        await client.get("/books?q=secret-word")

    lines = [record for record in caplog.records if record.name == "app.access"]
    assert len(lines) == 2
    fields = [
        (line.request_id, line.method, line.route, line.status)  # type: ignore[attr-defined]
        for line in lines
    ]
    assert fields[0] == ("one-line", "GET", "/books/{book_id}", 404)
    assert fields[1][1:] == ("GET", "/books", 200)
    assert all(line.duration_ms >= 0 for line in lines)  # type: ignore[attr-defined]
    text = caplog.text
    assert str(book_id) not in text
    assert "secret-word" not in text
    assert client.headers["authorization"].removeprefix("Bearer ") not in text


async def test_no_id_outlives_its_request(client: AsyncClient) -> None:
    await client.get("/health/live", headers={"X-Request-ID": "gone-after"})

    assert current_request_id() is None
