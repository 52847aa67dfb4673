"""Keyset pagination: `cursor` walks every list in the order page numbers give, row by row."""

import base64
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from httpx import AsyncClient, Response

from app.books.schemas import BookQuery
from app.db.engine import Database
from tests.test_plans import sqlite_steps
from tests.test_queries import Sent, count_queries, make_catalogue

# A list small enough for one page by number, and long enough for several pages of two.
AUTHORS = ["Zed Lee", "Ann Lee", "Bob", "ann lee", "Cy Twombly", "Émile", "Ann Lee"]
BOOKS: list[tuple[str, int | None, list[str]]] = [
    ("Same", None, ["sf", "classic"]),
    ("Alpha", 1990, ["sf"]),
    ("Same", None, ["fantasy", "short"]),
    ("Beta", 1990, ["sf", "fantasy"]),
    ("Gamma", 2000, ["classic"]),
    ("Same", None, ["sf", "long"]),
    ("Delta", 1980, ["fantasy", "classic"]),
    ("Épsilon", 1990, ["sf", "orphan"]),
    ("Zeta", 2010, []),
    ("Same", 1990, ["fantasy"]),
]
BOOK_SORTS = [
    None,
    # `relevance` needs `search`: tests/search walks it.
    *(
        f"{sign}{field}"
        for field in BookQuery.sorting.names
        if field != "relevance"
        for sign in ("", "-")
    ),
    "-published_year,title",
    "published_year,-title",
    "title,-published_year",
    "-published_year,-updated_at",
]
BOOK_FILTERS = [{}, {"tag": "SF"}, {"year_to": "1995"}, {"q": "a", "year_from": "1985"}]
AUTHOR_SORTS = [None, "name", "-name", "created_at", "-created_at", "updated_at", "-updated_at"]
AUTHOR_FILTERS = [{}, {"q": "lee"}, {"name": "ANN LEE"}]
TAG_SORTS = [None, "name", "-name", "book_count", "-book_count", "-book_count,name"]
TAG_FILTERS = [{}, {"q": "o"}]


@pytest.fixture
async def catalogue(client: AsyncClient) -> dict[str, Any]:
    """Authors with equal names, books with equal titles and years (NULLs too), tags with
    equal book counts (one with none), and updates that reorder `updated_at`."""
    authors = []
    for name in AUTHORS:
        response = await client.post("/authors", json={"name": name})
        assert response.status_code == 201, response.text
        authors.append(response.json())
    books = []
    for number, (title, year, tags) in enumerate(BOOKS):
        body = {"title": title, "published_year": year, "tags": tags}
        body["author_id"] = authors[number % 3]["id"]
        response = await client.post("/books", json=body)
        assert response.status_code == 201, response.text
        books.append(response.json())
    for book in books[7], books[1]:
        tags = [tag for tag in book["tags"] if tag != "orphan"]
        response = await client.patch(f"/books/{book['id']}", json={"tags": tags})
        assert response.status_code == 200, response.text
    response = await client.patch(f"/authors/{authors[1]['id']}", json={"bio": "Moved on."})
    assert response.status_code == 200, response.text
    return {"authors": authors, "books": books}


def next_link(response: Response) -> tuple[str, dict[str, str]] | None:
    """The `next` link's path and query parameters (empty values kept), if there is one."""
    for target, rel in re.findall(r'<([^>]*)>; rel="(\w+)"', response.headers["link"]):
        if rel == "next":
            url = urlsplit(target)
            return url.path, dict(parse_qsl(url.query, keep_blank_values=True))
    return None


async def by_page_number(client: AsyncClient, url: str, params: dict[str, str]) -> list[str]:
    response = await client.get(url, params={**params, "per_page": "100"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["pages"] <= 1
    return [item["id"] for item in body["items"]]


async def by_cursor(client: AsyncClient, url: str, params: dict[str, str]) -> list[str]:
    """Walk the list two rows at a time by following each page's `next` link, checking meta."""
    expected = await by_page_number(client, url, params)
    seen: list[str] = []
    response = await client.get(url, params={**params, "per_page": "2", "cursor": ""})
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        meta = body["meta"]
        # Total and pages stay true; the page number is known only at the start.
        assert meta == {
            "page": 1 if not seen else None,
            "per_page": 2,
            "total": len(expected),
            "pages": -(-len(expected) // 2),
            "next_cursor": meta["next_cursor"],
        }
        seen.extend(item["id"] for item in body["items"])
        link = next_link(response)
        if meta["next_cursor"] is None:
            assert link is None
            break
        assert len(body["items"]) == 2
        assert link is not None
        path, query = link
        assert path == url
        assert query == {**params, "per_page": "2", "cursor": meta["next_cursor"]}
        response = await client.get(path, params=query)
    assert seen == expected
    # The last page is never empty, unless the whole list is.
    assert body["items"] or not expected
    return seen


@pytest.mark.parametrize("filters", BOOK_FILTERS)
@pytest.mark.parametrize("sort", BOOK_SORTS)
@pytest.mark.usefixtures("catalogue")
async def test_walking_books_by_cursor_sees_the_pages_order(
    client: AsyncClient, sort: str | None, filters: dict[str, str]
) -> None:
    params = filters if sort is None else {**filters, "sort": sort}
    seen = await by_cursor(client, "/books", params)
    if not filters:
        assert len(seen) == len(BOOKS)


@pytest.mark.parametrize("filters", AUTHOR_FILTERS)
@pytest.mark.parametrize("sort", AUTHOR_SORTS)
@pytest.mark.usefixtures("catalogue")
async def test_walking_authors_by_cursor_sees_the_pages_order(
    client: AsyncClient, sort: str | None, filters: dict[str, str]
) -> None:
    params = filters if sort is None else {**filters, "sort": sort}
    seen = await by_cursor(client, "/authors", params)
    assert len(seen) == {"q": 4, "name": 3}.get(next(iter(filters), ""), len(AUTHORS))


@pytest.mark.parametrize("filters", TAG_FILTERS)
@pytest.mark.parametrize("sort", TAG_SORTS)
@pytest.mark.usefixtures("catalogue")
async def test_walking_tags_by_cursor_sees_the_pages_order(
    client: AsyncClient, sort: str | None, filters: dict[str, str]
) -> None:
    params = filters if sort is None else {**filters, "sort": sort}
    seen = await by_cursor(client, "/tags", params)
    assert len(seen) == (3 if filters else 6)


async def test_null_years_are_crossed_in_both_directions(
    client: AsyncClient, catalogue: dict[str, Any]
) -> None:
    ids = {book["id"]: (book["published_year"], book["title"]) for book in catalogue["books"]}
    ascending = await by_cursor(client, "/books", {"sort": "published_year,title"})
    descending = await by_cursor(client, "/books", {"sort": "-published_year,title"})
    assert [ids[book][0] for book in ascending][-3:] == [None, None, None]
    assert [ids[book][0] for book in descending][:3] == [None, None, None]


@pytest.mark.usefixtures("catalogue")
async def test_lists_by_page_number_keep_the_contracts_meta(client: AsyncClient) -> None:
    for url in ("/books", "/authors", "/tags"):
        response = await client.get(url, params={"per_page": 2})
        assert set(response.json()["meta"]) == {"page", "per_page", "total", "pages"}


@pytest.mark.usefixtures("catalogue")
async def test_the_last_page_has_no_next_cursor(client: AsyncClient) -> None:
    whole = await client.get("/books", params={"per_page": len(BOOKS), "cursor": ""})
    assert whole.json()["meta"]["next_cursor"] is None
    assert len(whole.json()["items"]) == len(BOOKS)
    assert next_link(whole) is None
    empty = await client.get("/books", params={"q": "no such title", "cursor": ""})
    assert empty.json()["meta"] == {
        "page": 1,
        "per_page": 20,
        "total": 0,
        "pages": 0,
        "next_cursor": None,
    }


@pytest.mark.usefixtures("catalogue")
async def test_first_link_restarts_the_walk_and_last_is_by_page(client: AsyncClient) -> None:
    first = await client.get("/tags", params={"per_page": 2, "sort": "-name", "cursor": ""})
    cursor = first.json()["meta"]["next_cursor"]
    second = await client.get("/tags", params={"per_page": 2, "sort": "-name", "cursor": cursor})
    header = second.headers["link"]
    assert '</tags?per_page=2&sort=-name&cursor=>; rel="first"' in header
    assert '</tags?per_page=2&sort=-name&page=3>; rel="last"' in header
    assert 'rel="prev"' not in header


def cursor_of(response: Response) -> str:
    assert response.status_code == 200, response.text
    cursor: str = response.json()["meta"]["next_cursor"]
    assert cursor is not None
    return cursor


def assert_cursor_refused(response: Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["loc"] for error in response.json()["errors"]] == [["query", "cursor"]]


def edited(cursor: str, change: Any) -> str:
    """The cursor with its JSON changed by `change`, encoded the same way."""
    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    change(decoded)
    return base64.urlsafe_b64encode(json.dumps(decoded).encode()).decode().rstrip("=")


def tampered(cursor: str) -> Iterator[str]:
    yield "not a cursor"
    yield cursor[:-7]
    yield cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    yield base64.urlsafe_b64encode(b"[1, 2]").decode()
    yield base64.urlsafe_b64encode(b"[" * 3000).decode()
    yield edited(cursor, lambda decoded: decoded["v"].__setitem__(0, "Zzz"))
    yield edited(cursor, lambda decoded: decoded["v"].pop())
    yield edited(cursor, lambda decoded: decoded.__setitem__("f", "x"))


@pytest.mark.usefixtures("catalogue")
async def test_a_tampered_cursor_is_a_422(client: AsyncClient) -> None:
    cursor = cursor_of(await client.get("/books", params={"per_page": 2, "cursor": ""}))
    for bad in tampered(cursor):
        assert_cursor_refused(await client.get("/books", params={"per_page": 2, "cursor": bad}))


@pytest.mark.parametrize(
    ("values", "sort"),
    [
        (["not a time", "0190f6b0-0000-7000-8000-000000000000"], "created_at"),
        (["2026-01-01T00:00:00", "0190f6b0-0000-7000-8000-000000000000"], "created_at"),
        (["1990", "0190f6b0-0000-7000-8000-000000000000"], "published_year"),
        ([True, "0190f6b0-0000-7000-8000-000000000000"], "published_year"),
        ([2**40, "0190f6b0-0000-7000-8000-000000000000"], "published_year"),
        (["0001-01-01T00:00:00+05:00", "0190f6b0-0000-7000-8000-000000000000"], "updated_at"),
        (["Nul\x00", "0190f6b0-0000-7000-8000-000000000000"], "title"),
        ([None, "0190f6b0-0000-7000-8000-000000000000"], "title"),
        (["Same", "not an id"], "title"),
        (["Same", None], "title"),
    ],
)
async def test_a_cursor_with_values_of_the_wrong_type_is_a_422(
    client: AsyncClient, values: list[Any], sort: str
) -> None:
    # Made with the right fingerprint, as only someone who copied the server's digest could.
    check = BookQuery(sort=sort).fingerprint(values)
    forged = base64.urlsafe_b64encode(json.dumps({"v": values, "f": check}).encode()).decode()
    assert_cursor_refused(await client.get("/books", params={"sort": sort, "cursor": forged}))


@pytest.mark.parametrize(
    ("url", "made_with", "used_with"),
    [
        ("/books", {"tag": "sf"}, {"tag": "fantasy"}),
        ("/books", {"tag": "sf"}, {}),
        ("/books", {}, {"sort": "-title"}),
        ("/books", {"sort": "published_year"}, {"sort": "published_year,title"}),
        ("/books", {"year_from": "1900"}, {"year_from": "1901"}),
        ("/authors", {"q": "lee"}, {"q": "ann"}),
        ("/tags", {}, {"sort": "-book_count"}),
    ],
)
@pytest.mark.usefixtures("catalogue")
async def test_a_cursor_from_another_list_is_a_422(
    client: AsyncClient,
    url: str,
    made_with: dict[str, str],
    used_with: dict[str, str],
) -> None:
    cursor = cursor_of(await client.get(url, params={**made_with, "per_page": 1, "cursor": ""}))
    response = await client.get(url, params={**used_with, "per_page": 1, "cursor": cursor})
    assert_cursor_refused(response)


@pytest.mark.usefixtures("catalogue")
async def test_a_cursor_of_one_collection_is_refused_by_another(client: AsyncClient) -> None:
    cursor = cursor_of(await client.get("/authors", params={"per_page": 1, "cursor": ""}))
    assert_cursor_refused(await client.get("/tags", params={"per_page": 1, "cursor": cursor}))


@pytest.mark.usefixtures("catalogue")
async def test_a_cursor_with_a_page_number_is_a_422(client: AsyncClient) -> None:
    cursor = cursor_of(await client.get("/books", params={"per_page": 2, "cursor": ""}))
    response = await client.get("/books", params={"page": 2, "cursor": cursor})
    assert_cursor_refused(response)
    assert "page" in response.json()["errors"][0]["msg"]
    assert_cursor_refused(await client.get("/books", params={"page": 3, "cursor": ""}))
    # Page 1 is where every cursor walk is anyway.
    response = await client.get("/books", params={"page": 1, "per_page": 2, "cursor": cursor})
    assert response.status_code == 200, response.text


async def test_cursor_is_documented(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path in ("/books", "/authors", "/tags"):
        parameters = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert "meta.next_cursor" in parameters["cursor"]["description"]
    assert "next_cursor" in spec["components"]["schemas"]["PageMeta"]["properties"]


@pytest.mark.parametrize(("url", "expected"), [("/books", 2), ("/authors", 2), ("/tags", 2)])
async def test_cursor_pages_send_the_same_statements_at_any_depth(
    client: AsyncClient, statements: Sent, url: str, expected: int
) -> None:
    await make_catalogue(client, tags_per_book=3)
    by_number = await count_queries(client, statements, url, per_page=1, page=2)
    response = await client.get(url, params={"per_page": 1, "cursor": ""})
    depths = []
    for _ in range(2):
        cursor = cursor_of(response)
        depths.append(await count_queries(client, statements, url, per_page=1, cursor=cursor))
        response = await client.get(url, params={"per_page": 1, "cursor": cursor})
    # Full and partial pages alike: after a cursor the count always runs.
    whole = await count_queries(client, statements, url, per_page=100, cursor=cursor)
    assert depths == [by_number, by_number] == [expected, expected]
    assert whole == expected


@pytest.mark.sqlite
@pytest.mark.usefixtures("catalogue")
async def test_the_default_cursor_query_for_books_reads_the_title_index(
    client: AsyncClient, statements: Sent, database: Database
) -> None:
    cursor = cursor_of(await client.get("/books", params={"per_page": 2, "cursor": ""}))
    statements.clear()
    response = await client.get("/books", params={"per_page": 2, "cursor": cursor})
    assert response.status_code == 200, response.text
    [(page_query, parameters)] = [(s, p) for s, p in statements if "ORDER BY book.title" in s]
    # On the test's own connection: SQLite's writer pool may hold only that one.
    plan = await sqlite_steps(database, page_query, parameters)
    assert any("ix_book_title_id" in step.detail and "SEARCH book" in step.detail for step in plan)
    # Each shown book's tags are sorted in their own subquery; the page itself is not.
    assert not any("TEMP B-TREE" in step.detail for step in plan if not step.in_correlated_subquery)
    assert any("TEMP B-TREE" in step.detail for step in plan), plan
