"""HEAD wherever GET is, and gzip above 1 KB for clients that accept it."""

import gzip
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient, Response

from app.config import Settings
from app.kit.responses import GZIP_MINIMUM_BYTES
from tests.helpers.catalogue import MISSING_ID, create_author, create_book
from tests.helpers.problems import same_problem
from tests.helpers.server import HOST, running_server

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
# Headers that may differ between any two requests, whatever their method.
# What differs between two requests however alike: the rate limit counts each one.
PER_REQUEST = {"date", "x-request-id", "ratelimit"}
# Pages that are served but left out of the OpenAPI document.
DOCS_PATHS = ["/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui.css"]


@pytest.fixture
async def catalogue(client: AsyncClient) -> dict[str, Any]:
    """An author with enough tagged books that lists and the author's page pass 1 KB."""
    author = await create_author(client)
    books = [
        await create_book(client, author["id"], f"Book {n:02}", tags=["fiction", f"tag {n}"])
        for n in range(12)
    ]
    upload = await client.post(
        "/imports", content=b"title,author\nA Book,Someone\n", headers={"Content-Type": "text/csv"}
    )
    assert upload.status_code == 202, upload.text
    return {"author": author, "book": books[0], "import": upload.json()}


def headers_of(response: Response) -> dict[str, str]:
    return {
        name: value for name, value in response.headers.items() if name.lower() not in PER_REQUEST
    }


async def assert_head_matches_get(
    client: AsyncClient, path: str, headers: dict[str, str] | None = None
) -> Response:
    got = await client.get(path, headers=headers)
    head = await client.head(path, headers=headers)
    assert head.status_code == got.status_code, path
    assert headers_of(head) == headers_of(got), path
    assert head.content == b"", path
    return got


async def test_head_answers_like_get_on_every_get_route_of_the_document(
    client: AsyncClient, catalogue: dict[str, Any]
) -> None:
    document = (await client.get("/openapi.json")).json()
    ids = {
        "author_id": catalogue["author"]["id"],
        "book_id": catalogue["book"]["id"],
        "import_id": catalogue["import"]["id"],
    }
    templates = [path for path, item in document["paths"].items() if "get" in item]
    assert {"/books/{book_id}", "/imports/{import_id}/events", "/exports/books"} <= set(templates)
    paths = [path.format(**ids) for path in templates]

    for path in paths + DOCS_PATHS:
        for accept in (GZIP, IDENTITY):
            got = await assert_head_matches_get(client, path, accept)
            assert got.status_code == 200, path


async def test_head_carries_the_error_status_and_headers_without_the_problem(
    client: AsyncClient,
) -> None:
    for path in (f"/books/{MISSING_ID}", "/authors?sort=nonsense", "/nowhere"):
        got = await assert_head_matches_get(client, path)
        assert got.status_code in (404, 422)
        assert got.headers["content-type"] == "application/problem+json"


async def test_head_is_named_in_allow_where_get_is(client: AsyncClient) -> None:
    response = await client.put("/authors")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"


async def test_large_answers_are_gzipped_for_clients_that_accept_it(
    client: AsyncClient, catalogue: dict[str, Any]
) -> None:
    del catalogue
    plain = await client.get("/books", headers=IDENTITY)
    packed = await client.get("/books", headers=GZIP)

    assert len(plain.content) > GZIP_MINIMUM_BYTES
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["vary"]
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    assert packed.json() == plain.json()
    assert packed.headers["link"] == plain.headers["link"]
    async with client.stream("GET", "/books", headers=GZIP) as streamed:
        raw = b"".join([chunk async for chunk in streamed.aiter_raw()])
    assert len(raw) == int(packed.headers["content-length"])
    assert gzip.decompress(raw) == plain.content


async def test_small_answers_are_sent_as_they_are(client: AsyncClient) -> None:
    response = await client.get("/health/live", headers=GZIP)
    assert response.status_code == 200
    assert len(response.content) < GZIP_MINIMUM_BYTES
    assert "content-encoding" not in response.headers


async def test_a_large_problem_stays_problem_json_when_gzipped(client: AsyncClient) -> None:
    unknown = {f"unknown_field_{n}": n for n in range(40)}
    plain = await client.post("/authors", json=unknown, headers=IDENTITY)
    packed = await client.post("/authors", json=unknown, headers=GZIP)

    assert len(plain.content) > GZIP_MINIMUM_BYTES
    assert packed.status_code == plain.status_code == 422
    assert packed.headers["content-type"] == "application/problem+json"
    assert packed.headers["content-encoding"] == "gzip"
    assert same_problem(packed.json()) == same_problem(plain.json())


async def test_a_gzipped_answer_keeps_its_strong_etag_for_conditional_requests(
    client: AsyncClient, catalogue: dict[str, Any]
) -> None:
    path = f"/authors/{catalogue['author']['id']}"
    plain = await client.get(path, headers=IDENTITY)
    packed = await client.get(path, headers=GZIP)
    assert len(plain.content) > GZIP_MINIMUM_BYTES
    assert packed.headers["content-encoding"] == "gzip"
    tag = packed.headers["etag"]
    assert tag == plain.headers["etag"]
    assert not tag.startswith("W/")

    for accept in (GZIP, IDENTITY):
        unchanged = await client.get(path, headers={**accept, "If-None-Match": tag})
        assert unchanged.status_code == 304
        assert unchanged.content == b""
        assert "content-encoding" not in unchanged.headers
        assert unchanged.headers["etag"] == tag
        head = await client.head(path, headers={**accept, "If-None-Match": tag})
        assert head.status_code == 304

    patched = await client.patch(path, json={"bio": "New"}, headers={**GZIP, "If-Match": tag})
    assert patched.status_code == 200
    stale = await client.patch(path, json={"bio": "Lost"}, headers={**GZIP, "If-Match": tag})
    assert stale.status_code == 412


async def test_docs_assets_are_sent_whole_even_when_a_range_is_asked(client: AsyncClient) -> None:
    path = "/docs/assets/swagger-ui.css"
    whole = await client.get(path, headers=IDENTITY)
    ranged = await client.get(path, headers={**IDENTITY, "Range": "bytes=0-99"})

    assert ranged.status_code == 200
    assert ranged.content == whole.content
    assert "accept-ranges" not in ranged.headers
    assert "content-range" not in ranged.headers


def test_head_on_a_real_server_sends_headers_and_not_one_byte_more(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    with running_server(fresh_database().database_url, tmp_path / "server.log") as server:
        for path in ("/health/live", "/openapi.json"):
            with socket.create_connection((HOST, server.port), timeout=10) as connection:
                connection.sendall(
                    f"HEAD {path} HTTP/1.1\r\nHost: folio\r\nAccept-Encoding: gzip\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                answer = b""
                while chunk := connection.recv(65536):
                    answer += chunk
            head, _, rest = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), answer
            assert rest == b"", path
            assert b"content-length: " in head.lower(), head
