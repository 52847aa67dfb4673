"""Hostile input gets a 4xx problem (or, when it is valid, is stored exactly as sent) and
changes nothing it should not."""

import json
from collections.abc import MutableMapping
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from bench.experiments.cpu import get_scope
from tests.helpers.problems import PROBLEM_FIELDS, assert_problem

SQL_META = ["'; DROP TABLE book; --", '" OR 1=1 --', "1; DELETE FROM author", "\\'; --"]
MEGABYTE = "x" * 1_000_000
UNICODE = [
    "Ursula 📚🦄 Le Guin",  # emoji, outside the BMP
    "نجيب محفوظ",  # right to left
    "‮evil‬ override",  # bidi override characters
    "e\u0301mile",  # a combining accent
    "👩‍👩‍👧 family",  # zero-width joiners
    "\u200bzero width",
]


async def snapshot(client: AsyncClient) -> dict[str, Any]:
    """Every author, book and tag, as the API lists them."""
    state = {}
    for path in ("/authors", "/books", "/tags"):
        answer = await client.get(path, params={"per_page": 100})
        assert answer.status_code == 200, answer.text
        state[path] = answer.json()
    return state


@pytest.fixture
async def catalogue(client: AsyncClient) -> dict[str, Any]:
    """An author with a tagged book, so that there is data to damage."""
    author = (await client.post("/authors", json={"name": "Kept", "bio": "Intact"})).json()
    book = {"title": "Kept", "author_id": author["id"], "published_year": 1999, "tags": ["kept"]}
    return {"author": author, "book": (await client.post("/books", json=book)).json()}


def hostile_reads(author_id: str) -> list[tuple[str, dict[str, Any]]]:
    """GETs that must answer 200 or a 4xx problem, never a 5xx."""
    params: list[dict[str, Any]] = [{"q": value} for value in SQL_META]
    params += [{"name": value} for value in SQL_META]
    params += [
        {"q": "%"},
        {"q": "_"},
        {"q": "%%%"},
        {"sort": "name; DROP TABLE author"},
        {"sort": "-"},
        {"sort": ",,,"},
        {"q": "a\x00b"},
        {"page": 2**31},
        {"page": 10**100},
        {"page": -1},
        {"page": 0},
        {"page": "1e9"},
        {"page": "NaN"},
        {"per_page": 10**6},
        {"per_page": "true"},
        {"unknown": "1"},
    ]
    reads = [("/authors", p) for p in params] + [("/books", p) for p in params]
    reads += [("/tags", p) for p in params if "name" not in p]
    reads += [
        ("/books", {"year_from": 2**63}),
        ("/books", {"year_to": "1999.5"}),
        ("/books", {"author_id": "'; DROP TABLE author; --"}),
        ("/books", {"isbn": "' OR 1=1"}),
        ("/books", {"tag": "'; DROP TABLE tag; --"}),
        (f"/authors/{author_id}'; DROP TABLE author; --", {}),
        ("/authors/%00", {}),
        ("/authors/%FF", {}),
        ("/books/" + "9" * 10_000, {}),
    ]
    return reads


async def test_hostile_reads_answer_without_error_and_change_nothing(
    client: AsyncClient, catalogue: dict[str, Any]
) -> None:
    before = await snapshot(client)
    for path, params in hostile_reads(catalogue["author"]["id"]):
        answer = await client.get(path, params=params)
        if answer.status_code != 200:
            assert_problem(answer)
        elif {params.get("q"), params.get("name")} & set(SQL_META):
            assert answer.json()["items"] == []  # literal text, which no name contains
    assert await snapshot(client) == before


async def asgi_get(app: FastAPI, path: str, query: bytes) -> tuple[int, dict[str, str], bytes]:
    """Call the app directly, for a URL longer than httpx agrees to build."""
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(get_scope(path, query), receive, send)
    headers = {name.decode(): value.decode() for name, value in sent[0]["headers"]}
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("path", ["/authors", "/books", "/tags"])
async def test_a_100_kb_query_parameter_is_a_422(
    app: FastAPI, client: AsyncClient, path: str
) -> None:
    before = await snapshot(client)
    status, headers, body = await asgi_get(app, path, b"q=" + b"x" * 100_000)
    assert status == 422
    assert headers["content-type"] == "application/problem+json"
    assert PROBLEM_FIELDS <= json.loads(body).keys()
    assert await snapshot(client) == before


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("raw_query", ["q=%FF", "q=%C3%28", "name=%E2%82", "page=1&sort=%80"])
async def test_invalid_utf8_in_the_query_string_is_a_422(
    client: AsyncClient, raw_query: str
) -> None:
    before = await snapshot(client)
    answer = await client.get(f"/authors?{raw_query}")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["loc"] == ["query"]
    assert await snapshot(client) == before


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("raw_query", ["q=%ZZ", "q=%", "q=%25"])
async def test_stray_percent_signs_are_literal_text(client: AsyncClient, raw_query: str) -> None:
    answer = await client.get(f"/authors?{raw_query}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"] == []


def hostile_writes(author_id: str, book_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Writes that must each be refused with a 4xx problem."""
    book = {"title": "T", "author_id": author_id}
    writes: list[tuple[str, str, dict[str, Any]]] = []
    for body in (
        {"name": MEGABYTE},
        {"name": "Kept", "bio": MEGABYTE},
        {"name": "a\x00b"},
        {"name": "ok", "bio": "\x00"},
        {"name": ""},
        {"name": "   "},
        {"name": None},
        {"name": 5},
        {"name": True},
        {"name": ["list"]},
        {"name": {"nested": "object"}},
        {"name": "ok", "id": "01a00000-0000-7000-8000-000000000000"},
        {"name": "ok", "version": 99},
    ):
        writes += [
            ("POST", "/authors", {"json": body}),
            ("PATCH", f"/authors/{author_id}", {"json": body}),
        ]
    for changes in (
        {"published_year": "1999"},  # numbers as strings
        {"published_year": True},  # booleans for integers
        {"published_year": 1999.5},  # floats for years
        {"published_year": 1999.0},
        {"published_year": 10**30},
        {"published_year": -(10**30)},
        {"published_year": "NaN"},
        {"author_id": 1},
        {"author_id": "'; DROP TABLE author; --"},
        {"tags": "not a list"},
        {"tags": [1, 2]},
        {"tags": ["x" * 51]},
        {"tags": [f"t{n}" for n in range(21)]},
        {"tags": ["ok", "\x00"]},
        {"isbn": "' OR 1=1 --"},
        {"isbn": "9" * 1000},
        {"description": MEGABYTE},
        {"title": MEGABYTE},
    ):
        writes += [
            ("POST", "/books", {"json": {**book, **changes}}),
            ("PATCH", f"/books/{book_id}", {"json": changes}),
        ]
    deep = "[" * 100_000 + "]" * 100_000
    deep_object = '{"a":' * 10_000 + "1" + "}" * 10_000
    for content in (
        b'{"name": "\xff\xfe"}',  # invalid UTF-8
        b'{"name": "\xc3\x28"}',
        deep.encode(),
        deep_object.encode(),
        b'{"name": "unterminated',
        b"",
        b"null",
        b"[]",
        b'"just a string"',
        b'{"name": "dup", "name": "licate", "nope": 1}',
        b'{"name": NaN}',
        b'{"name": "x"}' * 2,
    ):
        headers = {"content-type": "application/json"}
        writes += [
            ("POST", "/authors", {"content": content, "headers": headers}),
            ("PATCH", f"/authors/{author_id}", {"content": content, "headers": headers}),
        ]
    writes += [
        (
            "POST",
            "/authors",
            {"content": b'{"name": "plain"}', "headers": {"content-type": "text/plain"}},
        ),
        ("POST", "/authors", {"data": {"name": "form"}}),
        ("DELETE", f"/authors/{author_id}'; DROP TABLE author; --", {}),
        ("DELETE", f"/authors/{author_id}", {"params": {"cascade": "'; DROP TABLE book; --"}}),
        ("DELETE", f"/books/{book_id}", {"headers": {"if-match": '"0"'}}),
    ]
    return writes


async def test_hostile_writes_get_a_4xx_problem_and_change_nothing(
    client: AsyncClient, catalogue: dict[str, Any]
) -> None:
    before = await snapshot(client)
    answers = []
    for method, path, kwargs in hostile_writes(catalogue["author"]["id"], catalogue["book"]["id"]):
        answer = await client.request(method, path, **kwargs)
        answers.append((method, path, str(kwargs)[:80], answer.status_code))
        assert_problem(answer)
    assert await snapshot(client) == before
    assert {status for *_request, status in answers} <= {404, 409, 412, 422}, answers


@pytest.mark.parametrize("text", SQL_META + UNICODE + ["100% _literal_", "tab\there", "\\x00"])
async def test_odd_but_valid_text_is_stored_and_found_exactly_as_sent(
    client: AsyncClient, catalogue: dict[str, Any], text: str
) -> None:
    author = await client.post("/authors", json={"name": text, "bio": text})
    assert author.status_code == 201, author.text
    created = author.json()
    assert (created["name"], created["bio"]) == (text.strip(), text.strip())
    book_body = {"title": text, "author_id": created["id"], "tags": [text[:50]]}
    book = await client.post("/books", json=book_body)
    assert book.status_code == 201, book.text
    assert book.json()["title"] == text.strip()

    fetched = (await client.get(f"/authors/{created['id']}")).json()
    assert fetched["name"] == text.strip()
    found = (await client.get("/authors", params={"q": text.strip()})).json()["items"]
    assert [item["id"] for item in found] == [created["id"]]
    titled = (await client.get("/books", params={"q": text.strip()})).json()["items"]
    assert [item["id"] for item in titled] == [book.json()["id"]]
    # The catalogue the meta-characters might have reached is still there.
    assert (await client.get(f"/books/{catalogue['book']['id']}")).status_code == 200
    assert (await client.get("/tags", params={"q": "kept"})).json()["meta"]["total"] == 1


async def test_percent_and_underscore_in_a_search_are_literal(
    client: AsyncClient, catalogue: dict[str, Any]
) -> None:
    for name in ("100% Pure", "snake_case", "plain"):
        assert (await client.post("/authors", json={"name": name})).status_code == 201

    async def names(q: str) -> list[str]:
        answer = await client.get("/authors", params={"q": q})
        return [item["name"] for item in answer.json()["items"]]

    assert await names("%") == ["100% Pure"]
    assert await names("_") == ["snake_case"]
    assert await names("0% p") == ["100% Pure"]
    assert await names("e_c") == ["snake_case"]
    assert await names("p%e") == []
    assert await names("s_a") == []
    assert catalogue["author"]["name"] == "Kept"
